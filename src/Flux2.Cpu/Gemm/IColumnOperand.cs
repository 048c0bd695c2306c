using Flux2.Core;

namespace Flux2.Cpu.Gemm;

/// <summary>The packed GEMM's second operand: <see cref="Count"/> output columns of <see cref="Depth"/> values each, packed
/// a kc × nc block at a time into a format's column strips.</summary>
internal unsafe interface IColumnOperand
{
    /// <summary>N: output columns.</summary>
    int Count { get; }

    /// <summary>K: values per column.</summary>
    int Depth { get; }

    /// <summary>Columns [n0, n0+nc) over [k0, k0+kc) into strips of the format's <see cref="IPanelFormat.Columns"/>;
    /// <paramref name="rowBuffers"/> is scratch for decoding.</summary>
    void Pack<TFormat>(in TFormat format, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers)
        where TFormat : struct, IPanelFormat;
}

/// <summary>A Linear's weight W [N, K] in its stored format: y = x·Wᵀ.</summary>
internal readonly struct StoredWeight(LinearWeight w) : IColumnOperand
{
    public int Count => w.OutFeatures;
    public int Depth => w.InFeatures;

    public unsafe void Pack<TFormat>(in TFormat format, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers)
        where TFormat : struct, IPanelFormat => format.PackWeights(w, n0, nc, k0, kc, dst, rowBuffers);
}

/// <summary>An fp32 matrix B [K, N] stored by rows of N (row k at b + k·ldb): y = x·B. The convolution's patches, laid out
/// one row per (input channel, kernel offset) so that gathering them is contiguous copies.</summary>
internal readonly unsafe struct DepthMajorMatrix(float* b, long ldb, int count, int depth) : IColumnOperand
{
    public int Count => count;
    public int Depth => depth;

    public void Pack<TFormat>(in TFormat format, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers)
        where TFormat : struct, IPanelFormat => format.PackDepthMajor(b + k0 * ldb + n0, ldb, nc, kc, dst);
}
