using Flux2.Core;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Gemm;

/// <summary>y[M, N] (+)= x[M, K] · Wᵀ, with W [N, K] in its stored format, on <see cref="ComputePool.Shared"/>.</summary>
public static unsafe class Gemm
{
    /// <param name="x">activations, row stride <paramref name="ldx"/> floats</param>
    /// <param name="y">output, row stride <paramref name="ldy"/> floats</param>
    /// <param name="accumulate">add to y instead of overwriting it</param>
    public static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate = false)
        => Multiply(GemmKernel.Best, x, m, ldx, w, y, ldy, accumulate);

    /// <summary>The same product with a chosen microkernel for the packed path (tests and benchmarks compare them).</summary>
    public static void Multiply(GemmKernel kernel, float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate = false)
    {
        if (!kernel.IsSupported) throw new PlatformNotSupportedException($"GEMM kernel {kernel.Name} needs instructions this processor lacks");
        if (m < 0 || ldx < w.InFeatures || ldy < w.OutFeatures)
            throw new ArgumentException($"{w.Name}: GEMM with m={m}, ldx={ldx}, ldy={ldy} does not fit W [{w.OutFeatures}, {w.InFeatures}]");
        if (m == 0) return;
        var pool = ComputePool.Shared;
        if (m <= SmallRowsGemm.MaxRows) SmallRowsGemm.Run(x, m, ldx, w, y, ldy, accumulate, pool);
        else PackedGemm.Run(kernel, x, m, ldx, w, y, ldy, accumulate, pool);
    }
}
