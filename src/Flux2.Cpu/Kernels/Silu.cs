using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>y = x · sigmoid(x) elementwise over [rows, width]; y may be x. Scalar twin: <see cref="SiluReference"/>.</summary>
public static unsafe class Silu
{
    public static void Run(ComputePool pool, float* x, float* y, int rows, int width) =>
        RowParallel.For(pool, rows, width, new Kernel { X = x, Y = y, Width = width });

    /// <summary>SiLU of one vector (shared with <see cref="SwiGlu"/>).</summary>
    internal static Vector256<float> Apply(Vector256<float> v) => v / (Vector256<float>.One + Vector256.Exp(-v));

    internal static float Apply(float v) => v / (1f + MathF.Exp(-v));

    private struct Kernel : IRowKernel
    {
        public float* X, Y;
        public int Width;

        public void Row(int row)
        {
            float* x = X + (long)row * Width;
            float* y = Y + (long)row * Width;
            int d = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; d + 8 <= Width; d += 8) Vector256.Store(Apply(Vector256.Load(x + d)), y + d);
            for (; d < Width; d++) y[d] = Apply(x[d]);
        }
    }
}

/// <summary>The scalar oracle of <see cref="Silu"/>.</summary>
public static unsafe class SiluReference
{
    public static void Run(float* x, float* y, int rows, int width)
    {
        for (long i = 0; i < (long)rows * width; i++) y[i] = (float)(x[i] / (1 + Math.Exp(-x[i])));
    }
}
