using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// RMSNorm with weight: each group of <c>groupSize</c> consecutive values in columns [0, width) of every row becomes
/// y = x · rsqrt(mean(x²) + eps) · w, with w [groupSize]. groupSize = head dim gives the per-head QK norm,
/// groupSize = width the usual norm over the hidden size. Rows have stride ld in both x and y; y may be x.
/// Scalar twin: <see cref="RmsNormReference"/>.
/// </summary>
public static unsafe class RmsNorm
{
    public static void Run(ComputePool pool, float* x, float* y, int rows, int ld, int width, float* weight, int groupSize, float eps) =>
        RowParallel.For(pool, rows, width, new Kernel { X = x, Y = y, Ld = ld, Width = width, Weight = weight, Group = groupSize, Eps = eps });

    private struct Kernel : IRowKernel
    {
        public float* X, Y, Weight;
        public int Ld, Width, Group;
        public float Eps;

        public void Row(int row)
        {
            for (int g = 0; g < Width; g += Group)
            {
                float* x = X + (long)row * Ld + g;
                float* y = Y + (long)row * Ld + g;
                int n = Group, d = 0;
                float sq = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var acc = Vector256<float>.Zero;
                    for (; d + 8 <= n; d += 8)
                    {
                        var v = Vector256.Load(x + d);
                        acc += v * v;
                    }
                    sq = Vector256.Sum(acc);
                }
                for (; d < n; d++) sq += x[d] * x[d];
                float r = 1f / MathF.Sqrt(sq / n + Eps);
                d = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var rv = Vector256.Create(r);
                    for (; d + 8 <= n; d += 8) Vector256.Store(Vector256.Load(x + d) * rv * Vector256.Load(Weight + d), y + d);
                }
                for (; d < n; d++) y[d] = x[d] * r * Weight[d];
            }
        }
    }
}

/// <summary>The scalar oracle of <see cref="RmsNorm"/>.</summary>
public static unsafe class RmsNormReference
{
    public static void Run(float* x, float* y, int rows, int ld, int width, float* weight, int groupSize, float eps)
    {
        for (int row = 0; row < rows; row++)
        {
            for (int g = 0; g < width; g += groupSize)
            {
                float* xg = x + (long)row * ld + g, yg = y + (long)row * ld + g;
                double sq = 0;
                for (int d = 0; d < groupSize; d++) sq += (double)xg[d] * xg[d];
                double r = 1 / Math.Sqrt(sq / groupSize + eps);
                for (int d = 0; d < groupSize; d++) yg[d] = (float)(xg[d] * r * weight[d]);
            }
        }
    }
}
