using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels.Text;

/// <summary>Rotate-half RoPE in place on x [B, L, heads, D] with tables cos, sin [L, D/2] (the LLM form; the DiT
/// uses interleaved pairs). Scalar twin: <see cref="RotaryHalfReference"/>.</summary>
public static unsafe class RotaryHalf
{
    private const int RowsPerItem = 16;

    public static void Run(ComputePool pool, float* x, int batch, int length, int heads, int headDim, float* cos, float* sin)
    {
        int rows = batch * length;
        var work = new Work { X = x, Length = length, Rows = rows, Heads = heads, HeadDim = headDim, Cos = cos, Sin = sin };
        pool.For((rows + RowsPerItem - 1) / RowsPerItem, work);
    }

    private struct Work : IParallelWork
    {
        public float* X, Cos, Sin;
        public int Length, Rows, Heads, HeadDim;

        public void Execute(int index)
        {
            int end = Math.Min(Rows, (index + 1) * RowsPerItem);
            int half = HeadDim / 2;
            for (int row = index * RowsPerItem; row < end; row++)
            {
                int pos = row % Length;
                float* c = Cos + (long)pos * half;
                float* s = Sin + (long)pos * half;
                float* xr = X + (long)row * Heads * HeadDim;
                for (int h = 0; h < Heads; h++) RotateHead(xr + (long)h * HeadDim, half, c, s);
            }
        }
    }

    private static void RotateHead(float* x1, int half, float* c, float* s)
    {
        float* x2 = x1 + half;
        int d = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; d + Vector256<float>.Count <= half; d += Vector256<float>.Count)
            {
                var a = Vector256.Load(x1 + d);
                var b = Vector256.Load(x2 + d);
                var cv = Vector256.Load(c + d);
                var sv = Vector256.Load(s + d);
                Vector256.Store(a * cv - b * sv, x1 + d);
                Vector256.Store(b * cv + a * sv, x2 + d);
            }
        }
        for (; d < half; d++)
        {
            float a = x1[d], b = x2[d];
            x1[d] = a * c[d] - b * s[d];
            x2[d] = b * c[d] + a * s[d];
        }
    }
}
