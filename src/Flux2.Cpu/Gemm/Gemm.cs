using Flux2.Core;

namespace Flux2.Cpu.Gemm;

/// <summary>y[M, N] (+)= x[M, K] · Wᵀ, with W [N, K] in its stored format.</summary>
public static unsafe class Gemm
{
    /// <param name="x">activations, row stride <paramref name="ldx"/> floats</param>
    /// <param name="y">output, row stride <paramref name="ldy"/> floats</param>
    /// <param name="accumulate">add to y instead of overwriting it</param>
    public static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate = false)
    {
        GemmReference.Multiply(x, m, ldx, w, y, ldy, accumulate);
    }
}
