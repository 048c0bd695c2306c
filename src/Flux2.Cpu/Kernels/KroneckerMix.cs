using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>The second half of a Kronecker-product Linear (see <see cref="Core.Backend.IBackend.KroneckerLinear"/>): with t a
/// row of b blocks of c values and A [a, b], y[yColumn + o] += Σ_j A[i, j]·t[j·c + k] for output i·c + k = start + o, each
/// term (A[i, j]·scales[start + o])·t[j·c + k] when output scales are given. Scalar twin: <see cref="KroneckerMixReference"/>.</summary>
public static unsafe class KroneckerMix
{
    /// <param name="t">[rows, b·c], row stride b·c</param>
    /// <param name="first">A [a, b], row-major</param>
    /// <param name="y">points at column yColumn of row 0, row stride <paramref name="ldy"/></param>
    /// <param name="scales">null, or [a·c]: a scale per output of the product</param>
    public static void Run(ComputePool pool, float* t, int rows, float* first, int b, int c, int start, int count, float* y, int ldy, float* scales = null) =>
        RowParallel.For(pool, rows, (long)count * b,
            new Kernel { T = t, First = first, B = b, C = c, Start = start, Count = count, Y = y, Ldy = ldy, Scales = scales });

    private struct Kernel : IRowKernel
    {
        public float* T, First, Y, Scales;
        public int B, C, Start, Count, Ldy;

        public void Row(int row)
        {
            float* t = T + (long)row * B * C;
            float* y = Y + (long)row * Ldy;
            // Outputs come in runs of one block i: k from its first to its last value in [Start, Start + Count).
            for (int o = 0; o < Count;)
            {
                int i = (Start + o) / C, k0 = (Start + o) % C;
                int run = Math.Min(C - k0, Count - o);
                float* target = y + o, scales = Scales + Start + o;
                for (int j = 0; j < B; j++)
                {
                    float weight = First[(long)i * B + j];
                    float* source = t + (long)j * C + k0;
                    int k = 0;
                    if (Scales == null)
                    {
                        if (Vector256.IsHardwareAccelerated)
                        {
                            var w = Vector256.Create(weight);
                            for (; k + 8 <= run; k += 8) Vector256.Store(Vector256.Load(target + k) + w * Vector256.Load(source + k), target + k);
                        }
                        for (; k < run; k++) target[k] += weight * source[k];
                        continue;
                    }
                    if (Vector256.IsHardwareAccelerated)
                    {
                        var w = Vector256.Create(weight);
                        for (; k + 8 <= run; k += 8)
                            Vector256.Store(Vector256.Load(target + k) + w * Vector256.Load(scales + k) * Vector256.Load(source + k), target + k);
                    }
                    for (; k < run; k++) target[k] += weight * scales[k] * source[k];
                }
                o += run;
            }
        }
    }
}

/// <summary>The scalar oracle of <see cref="KroneckerMix"/>.</summary>
public static unsafe class KroneckerMixReference
{
    public static void Run(float* t, int rows, float* first, int b, int c, int start, int count, float* y, int ldy, float* scales = null)
    {
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < count; o++)
            {
                int i = (start + o) / c, k = (start + o) % c;
                // Each term is added to y in turn, as the kernel does, so the two agree bit for bit.
                for (int j = 0; j < b; j++)
                {
                    float weight = scales == null ? first[i * b + j] : first[i * b + j] * scales[start + o];
                    y[(long)r * ldy + o] += weight * t[(long)r * b * c + j * c + k];
                }
            }
    }
}
