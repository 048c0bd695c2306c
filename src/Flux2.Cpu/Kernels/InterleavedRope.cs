using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// The DiT's RoPE on interleaved (adjacent) pairs, in place (spec §3.5): for each head of x and pair p,
/// (x[2p], x[2p+1]) ← (x[2p]·cos − x[2p+1]·sin, x[2p]·sin + x[2p+1]·cos) with cos, sin [tableRows, headDim/2].
/// Row r of x uses table row r mod tableRows (batches repeat the table). Rows have stride ld; the heads are
/// <c>heads</c> consecutive blocks of headDim starting at x. Scalar twin: <see cref="InterleavedRopeReference"/>.
/// </summary>
public static unsafe class InterleavedRope
{
    public static void Run(ComputePool pool, float* x, int ld, int rows, int heads, int headDim, float* cos, float* sin, int tableRows) =>
        RowParallel.For(pool, rows, (long)heads * headDim,
            new Kernel { X = x, Ld = ld, Heads = heads, HeadDim = headDim, Cos = cos, Sin = sin, TableRows = tableRows });

    private struct Kernel : IRowKernel
    {
        public float* X, Cos, Sin;
        public int Ld, Heads, HeadDim, TableRows;

        public void Row(int row)
        {
            int pairs = HeadDim / 2;
            float* c = Cos + (long)(row % TableRows) * pairs;
            float* s = Sin + (long)(row % TableRows) * pairs;
            for (int h = 0; h < Heads; h++)
            {
                float* x = X + (long)row * Ld + (long)h * HeadDim;
                int p = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    for (; p + 8 <= pairs; p += 8)
                    {
                        // 8 pairs = 16 floats: split into evens (first of each pair) and odds, rotate, interleave back.
                        var lo = Vector256.Load(x + 2 * p);
                        var hi = Vector256.Load(x + 2 * p + 8);
                        var even = Vector256.Shuffle(lo, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6));
                        var odd = Vector256.Shuffle(lo, Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7));
                        var evenHi = Vector256.Shuffle(hi, Vector256.Create(0, 2, 4, 6, 0, 2, 4, 6));
                        var oddHi = Vector256.Shuffle(hi, Vector256.Create(1, 3, 5, 7, 1, 3, 5, 7));
                        var a = Vector256.Create(even.GetLower(), evenHi.GetLower());
                        var b = Vector256.Create(odd.GetLower(), oddHi.GetLower());
                        var cv = Vector256.Load(c + p);
                        var sv = Vector256.Load(s + p);
                        var ra = a * cv - b * sv;
                        var rb = a * sv + b * cv;
                        // Interleave (ra0, rb0, ra1, rb1, ...).
                        var r0 = Vector256.Create(ra.GetLower(), rb.GetLower());
                        var r1 = Vector256.Create(ra.GetUpper(), rb.GetUpper());
                        var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
                        Vector256.Store(Vector256.Shuffle(r0, order), x + 2 * p);
                        Vector256.Store(Vector256.Shuffle(r1, order), x + 2 * p + 8);
                    }
                }
                for (; p < pairs; p++)
                {
                    float a = x[2 * p], b = x[2 * p + 1];
                    x[2 * p] = a * c[p] - b * s[p];
                    x[2 * p + 1] = a * s[p] + b * c[p];
                }
            }
        }
    }
}

/// <summary>The scalar oracle of <see cref="InterleavedRope"/>.</summary>
public static unsafe class InterleavedRopeReference
{
    public static void Run(float* x, int ld, int rows, int heads, int headDim, float* cos, float* sin, int tableRows)
    {
        int pairs = headDim / 2;
        for (int r = 0; r < rows; r++)
        {
            for (int h = 0; h < heads; h++)
            {
                for (int p = 0; p < pairs; p++)
                {
                    float* x0 = x + (long)r * ld + (long)h * headDim + 2 * p;
                    float c = cos[(long)(r % tableRows) * pairs + p], s = sin[(long)(r % tableRows) * pairs + p];
                    float a = x0[0], b = x0[1];
                    x0[0] = a * c - b * s;
                    x0[1] = a * s + b * c;
                }
            }
        }
    }
}
