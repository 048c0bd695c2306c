using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>AdaLN: y = LN(x)·(1 + scale) + shift over rows of x [rows, width], LayerNorm without affine parameters.
/// shift and scale are [width] vectors broadcast over the rows. y may be x. Scalar twin: <see cref="ModulatedLayerNormReference"/>.</summary>
public static unsafe class ModulatedLayerNorm
{
    public static void Run(ComputePool pool, float* x, float* y, int rows, int width, float* shift, float* scale, float eps) =>
        RowParallel.For(pool, rows, width, new Kernel { X = x, Y = y, Width = width, Shift = shift, Scale = scale, Eps = eps });

    private struct Kernel : IRowKernel
    {
        public float* X, Y, Shift, Scale;
        public int Width;
        public float Eps;

        public void Row(int row)
        {
            float* x = X + (long)row * Width;
            float* y = Y + (long)row * Width;
            int n = Width, d = 0;
            float sum = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var acc = Vector256<float>.Zero;
                for (; d + 8 <= n; d += 8) acc += Vector256.Load(x + d);
                sum = Vector256.Sum(acc);
            }
            for (; d < n; d++) sum += x[d];
            float mean = sum / n;

            float sq = 0;
            d = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var m = Vector256.Create(mean);
                var acc = Vector256<float>.Zero;
                for (; d + 8 <= n; d += 8)
                {
                    var c = Vector256.Load(x + d) - m;
                    acc += c * c;
                }
                sq = Vector256.Sum(acc);
            }
            for (; d < n; d++) sq += (x[d] - mean) * (x[d] - mean);
            float rstd = 1f / MathF.Sqrt(sq / n + Eps);

            d = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var m = Vector256.Create(mean);
                var r = Vector256.Create(rstd);
                var one = Vector256<float>.One;
                for (; d + 8 <= n; d += 8)
                {
                    var normed = (Vector256.Load(x + d) - m) * r;
                    Vector256.Store(normed * (one + Vector256.Load(Scale + d)) + Vector256.Load(Shift + d), y + d);
                }
            }
            for (; d < n; d++) y[d] = (x[d] - mean) * rstd * (1f + Scale[d]) + Shift[d];
        }
    }
}

/// <summary>The scalar oracle of <see cref="ModulatedLayerNorm"/>.</summary>
public static unsafe class ModulatedLayerNormReference
{
    public static void Run(float* x, float* y, int rows, int width, float* shift, float* scale, float eps)
    {
        for (int r = 0; r < rows; r++)
        {
            float* xr = x + (long)r * width, yr = y + (long)r * width;
            double sum = 0;
            for (int d = 0; d < width; d++) sum += xr[d];
            double mean = sum / width, sq = 0;
            for (int d = 0; d < width; d++) sq += (xr[d] - mean) * (xr[d] - mean);
            double rstd = 1 / Math.Sqrt(sq / width + eps);
            for (int d = 0; d < width; d++) yr[d] = (float)((xr[d] - mean) * rstd * (1 + scale[d]) + shift[d]);
        }
    }
}
