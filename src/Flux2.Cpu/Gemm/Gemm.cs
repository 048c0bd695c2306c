using Flux2.Core;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Gemm;

/// <summary>y[M, N] (+)= x[M, K] · Wᵀ, with W [N, K] in its stored format, on a compute pool.</summary>
public static unsafe class Gemm
{
    /// <param name="x">activations, row stride <paramref name="ldx"/> floats</param>
    /// <param name="y">output, row stride <paramref name="ldy"/> floats</param>
    /// <param name="accumulate">add to y instead of overwriting it</param>
    public static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, ComputePool pool) =>
        Multiply(x, m, ldx, w, y, ldy, accumulate, pool, bf16: null);

    /// <summary>As above; with <paramref name="bf16"/> the packed products round their operands to bf16 and sum in fp32.</summary>
    internal static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, ComputePool pool, Bf16MicroKernel? bf16)
    {
        Check(m, ldx, w, ldy);
        if (m == 0) return;
        if (m <= SmallRowsGemm.MaxRows) SmallRowsGemm.Run(x, m, ldx, w, y, ldy, accumulate, pool);
        else if (bf16 != null) PackedGemm.Run(new Bf16Panels(bf16), x, m, ldx, new StoredWeight(w), y, ldy, accumulate, pool);
        else PackedGemm.Run(new Float32Panels(GemmKernel.Best), x, m, ldx, new StoredWeight(w), y, ldy, accumulate, pool);
    }

    /// <summary>y[M, N] (+)= x[M, K] · B, B an fp32 [K, N] matrix with row stride <paramref name="ldb"/>, in bf16 products when
    /// <paramref name="bf16"/> is given (the convolution: the weight times its patches).</summary>
    internal static void MultiplyDepthMajor(float* x, int m, int ldx, float* b, long ldb, int n, int k, float* y, int ldy, bool accumulate,
        ComputePool pool, Bf16MicroKernel? bf16)
    {
        if (m < 0 || n < 0 || ldx < k || ldy < n || ldb < n)
            throw new ArgumentException($"GEMM with m={m}, n={n}, k={k}, ldx={ldx}, ldb={ldb}, ldy={ldy} has strides shorter than its rows");
        MultiplyColumns(x, m, ldx, new DepthMajorMatrix(b, ldb, n, k), y, ldy, accumulate, pool, bf16);
    }

    /// <summary>y[M, N] (+)= x[M, K] · B for any second operand B [K, N] (<see cref="IColumnOperand"/>), in bf16 products when
    /// <paramref name="bf16"/> is given.</summary>
    internal static void MultiplyColumns<TColumns>(float* x, int m, int ldx, TColumns columns, float* y, int ldy, bool accumulate,
        ComputePool pool, Bf16MicroKernel? bf16) where TColumns : struct, IColumnOperand
    {
        if (m < 0 || ldx < columns.Depth || ldy < columns.Count)
            throw new ArgumentException($"GEMM with m={m}, n={columns.Count}, k={columns.Depth}, ldx={ldx}, ldy={ldy} has strides shorter than its rows");
        if (m == 0 || columns.Count == 0) return;
        if (bf16 != null) PackedGemm.Run(new Bf16Panels(bf16), x, m, ldx, columns, y, ldy, accumulate, pool);
        else PackedGemm.Run(new Float32Panels(GemmKernel.Best), x, m, ldx, columns, y, ldy, accumulate, pool);
    }

    /// <summary>The same product with a chosen fp32 microkernel for the packed path (tests and benchmarks compare them).</summary>
    public static void Multiply(GemmKernel kernel, float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, ComputePool pool)
    {
        if (!kernel.IsSupported) throw new PlatformNotSupportedException($"GEMM kernel {kernel.Name} needs instructions this processor lacks");
        Check(m, ldx, w, ldy);
        if (m == 0) return;
        if (m <= SmallRowsGemm.MaxRows) SmallRowsGemm.Run(x, m, ldx, w, y, ldy, accumulate, pool);
        else PackedGemm.Run(new Float32Panels(kernel), x, m, ldx, new StoredWeight(w), y, ldy, accumulate, pool);
    }

    /// <summary>The bf16 kernel on every row count, the small-row path included (tests compare it with its oracle).</summary>
    internal static void MultiplyBf16(Bf16MicroKernel bf16, float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, ComputePool pool)
    {
        Check(m, ldx, w, ldy);
        if (m > 0) PackedGemm.Run(new Bf16Panels(bf16), x, m, ldx, new StoredWeight(w), y, ldy, accumulate, pool);
    }

    private static void Check(int m, int ldx, LinearWeight w, int ldy)
    {
        if (m < 0 || ldx < w.InFeatures || ldy < w.OutFeatures)
            throw new ArgumentException($"{w.Name}: GEMM with m={m}, ldx={ldx}, ldy={ldy} does not fit W [{w.OutFeatures}, {w.InFeatures}]");
        if (!w.IsHostAccessible) throw new ArgumentException($"{w.Name}: the weight lives in another device's memory");
    }
}
