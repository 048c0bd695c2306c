using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>y[r, j] = scales[j]·x[r, j] (or += with accumulate) over [rows, width] with row strides ldx and ldy; x may be y.
/// Scalar twin: <see cref="ColumnScaleReference"/>.</summary>
public static unsafe class ColumnScale
{
    public static void Run(ComputePool pool, float* x, int ldx, float* scales, float* y, int ldy, int rows, int width, bool accumulate) =>
        RowParallel.For(pool, rows, width, new Kernel { X = x, Ldx = ldx, Scales = scales, Y = y, Ldy = ldy, Width = width, Accumulate = accumulate });

    private struct Kernel : IRowKernel
    {
        public float* X, Scales, Y;
        public int Ldx, Ldy, Width;
        public bool Accumulate;

        public void Row(int row)
        {
            float* x = X + (long)row * Ldx;
            float* y = Y + (long)row * Ldy;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; j + 8 <= Width; j += 8)
                {
                    var scaled = Vector256.Load(Scales + j) * Vector256.Load(x + j);
                    Vector256.Store(Accumulate ? Vector256.Load(y + j) + scaled : scaled, y + j);
                }
            for (; j < Width; j++) y[j] = Accumulate ? y[j] + Scales[j] * x[j] : Scales[j] * x[j];
        }
    }
}

/// <summary>The scalar oracle of <see cref="ColumnScale"/>.</summary>
public static unsafe class ColumnScaleReference
{
    public static void Run(float* x, int ldx, float* scales, float* y, int ldy, int rows, int width, bool accumulate)
    {
        for (long r = 0; r < rows; r++)
            for (int j = 0; j < width; j++)
            {
                float scaled = scales[j] * x[r * ldx + j];
                y[r * ldy + j] = accumulate ? y[r * ldy + j] + scaled : scaled;
            }
    }
}
