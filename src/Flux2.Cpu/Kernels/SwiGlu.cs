using System.Runtime.Intrinsics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// SwiGLU: y[r, i] = SiLU(z[r, i]) · z[r, width + i] for i &lt; width. <b>The gate is the first half</b> (spec §3.8).
/// z has row stride ldz (the gate/up segment may sit inside a wider fused projection), y row stride ldy.
/// Scalar twin: <see cref="SwiGluReference"/>.
/// </summary>
public static unsafe class SwiGlu
{
    public static void Run(ComputePool pool, float* z, int ldz, float* y, int ldy, int rows, int width) =>
        RowParallel.For(pool, rows, 2L * width, new Kernel { Z = z, Ldz = ldz, Y = y, Ldy = ldy, Width = width });

    private struct Kernel : IRowKernel
    {
        public float* Z, Y;
        public int Ldz, Ldy, Width;

        public void Row(int row)
        {
            float* gate = Z + (long)row * Ldz;
            float* up = gate + Width;
            float* y = Y + (long)row * Ldy;
            int d = 0;
            if (Vector256.IsHardwareAccelerated)
                for (; d + 8 <= Width; d += 8)
                    Vector256.Store(Silu.Apply(Vector256.Load(gate + d)) * Vector256.Load(up + d), y + d);
            for (; d < Width; d++) y[d] = Silu.Apply(gate[d]) * up[d];
        }
    }
}

/// <summary>The scalar oracle of <see cref="SwiGlu"/>.</summary>
public static unsafe class SwiGluReference
{
    public static void Run(float* z, int ldz, float* y, int ldy, int rows, int width)
    {
        for (int r = 0; r < rows; r++)
        {
            for (int i = 0; i < width; i++)
            {
                double g = z[(long)r * ldz + i], u = z[(long)r * ldz + width + i];
                y[(long)r * ldy + i] = (float)(g / (1 + Math.Exp(-g)) * u);
            }
        }
    }
}
