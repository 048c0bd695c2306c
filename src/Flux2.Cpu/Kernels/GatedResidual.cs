using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>x += gate ⊙ y over rows of [rows, width], with gate a [width] vector broadcast over the rows.
/// Scalar twin: <see cref="GatedResidualReference"/>.</summary>
public static unsafe class GatedResidual
{
    public static void Run(ComputePool pool, float* x, float* y, int rows, int width, float* gate) =>
        RowParallel.For(pool, rows, width, new Kernel { X = x, Y = y, Width = width, Gate = gate });

    private struct Kernel : IRowKernel
    {
        public float* X, Y, Gate;
        public int Width;

        public void Row(int row)
        {
            float* x = X + (long)row * Width;
            float* y = Y + (long)row * Width;
            int d = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; d + 8 <= Width; d += 8)
                    Vector256.Store(Vector256.Load(x + d) + Vector256.Load(Gate + d) * Vector256.Load(y + d), x + d);
            for (; d < Width; d++) x[d] += Gate[d] * y[d];
        }
    }
}

/// <summary>The scalar oracle of <see cref="GatedResidual"/>.</summary>
public static unsafe class GatedResidualReference
{
    public static void Run(float* x, float* y, int rows, int width, float* gate)
    {
        for (long i = 0; i < (long)rows * width; i++) x[i] += gate[i % width] * y[i];
    }
}
