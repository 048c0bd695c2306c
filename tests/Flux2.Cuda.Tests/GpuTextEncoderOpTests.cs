using Flux2.Core;
using Flux2.Core.Backend;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>The text encoders' ops on the GPU against the CPU backend, on ragged shapes, in both precisions. Skipped without
/// a GPU.</summary>
public sealed class GpuTextEncoderOpTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    public static TheoryData<ComputePrecision, WeightFormat> EmbeddingCases()
    {
        var data = new TheoryData<ComputePrecision, WeightFormat>();
        foreach (var precision in GpuTransformerOpTests.Precisions)
        foreach (var format in new[] { WeightFormat.BFloat16, WeightFormat.Float16, WeightFormat.Float32, WeightFormat.Fp8E4M3, WeightFormat.Nvfp4 })
            data.Add(precision, format);
        return data;
    }

    /// <summary>Rows gathered in any order, repeats and the first and last ids included, from a table in each stored format
    /// (NVFP4 expanded at load on the GPU, FP8 too or, for bf16 on sm_89+, kept and decoded while gathered; decoded on the
    /// CPU: the same values).</summary>
    [Theory]
    [MemberData(nameof(EmbeddingCases))]
    public void EmbeddingLookup(ComputePrecision precision, WeightFormat format)
    {
        const int vocab = 80, hidden = 48;
        long[] ids = [0, 79, 5, 5, 33, 1, 78, 12, 40, 2, 0];
        using var stored = new HostWeight(format, Random(vocab * hidden, 61), vocab, hidden);
        comparison.Compare($"EmbeddingLookup {format} [{ids.Length}]x{hidden}", precision, s =>
        {
            using var table = s.Backend.LoadLinear(stored.Weight);
            var output = s.Out(1, ids.Length, hidden);
            s.Backend.EmbeddingLookup(table, s.InInt64(ids, 1, ids.Length), output);
            return s.Read(output);
        });
    }

    public static TheoryData<ComputePrecision, int, int, int, int> RotaryCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int, int>();
        foreach (var precision in GpuTransformerOpTests.Precisions)
        foreach (var (batch, length, heads, headDim) in new[] { (1, 1, 1, 2), (2, 7, 3, 16), (2, 33, 8, 128) })
            data.Add(precision, batch, length, heads, headDim);
        return data;
    }

    [Theory]
    [MemberData(nameof(RotaryCases))]
    public void RotaryHalf(ComputePrecision precision, int batch, int length, int heads, int headDim) =>
        comparison.Compare($"RotaryHalf [{batch},{length},{heads},{headDim}]", precision, s =>
        {
            var x = s.In(Random(batch * length * heads * headDim, 62, 2f), batch, length, heads, headDim);
            var angles = Random(length * headDim / 2, 63, 3f);
            var cos = s.InFloat32(Array.ConvertAll(angles, MathF.Cos), length, headDim / 2);
            var sin = s.InFloat32(Array.ConvertAll(angles, MathF.Sin), length, headDim / 2);
            s.Backend.RotaryHalf(x, cos, sin);
            return s.Read(x);
        });

    public static TheoryData<ComputePrecision, int, int, int, int, int, FullyMaskedRows> AttentionCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int, int, int, FullyMaskedRows>();
        foreach (var precision in GpuTransformerOpTests.Precisions)
        foreach (var masked in new[] { FullyMaskedRows.Zero, FullyMaskedRows.Uniform })
        foreach (var (batch, length, qHeads, kvHeads, headDim) in new[] { (1, 1, 1, 1, 8), (2, 19, 4, 2, 40), (3, 70, 8, 2, 128), (1, 130, 6, 6, 64) })
            data.Add(precision, batch, length, qHeads, kvHeads, headDim, masked);
        return data;
    }

    /// <summary>Grouped-query causal attention with key masks mixing left padding (leading rows that see no key), right
    /// padding and holes, and, with a batch of 3, a sequence that is all padding.</summary>
    [Theory]
    [MemberData(nameof(AttentionCases))]
    public void CausalMaskedAttention(ComputePrecision precision, int batch, int length, int qHeads, int kvHeads, int headDim,
        FullyMaskedRows masked)
    {
        var mask = new long[batch * length];
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < length; j++)
                mask[b * length + j] = b switch
                {
                    0 => j >= length / 3 || length == 1 ? 1 : 0,    // left padding
                    1 => j < length - 5 && j % 7 != 3 ? 1 : 0,      // right padding and holes
                    _ => 0,                                         // nothing to see
                };
        comparison.Compare($"CausalMaskedAttention B{batch} L{length} H{qHeads}/{kvHeads} D{headDim} {masked}", precision, s =>
        {
            var q = s.In(Random(batch * length * qHeads * headDim, 64, 2f), batch, length, qHeads, headDim);
            var k = s.In(Random(batch * length * kvHeads * headDim, 65, 2f), batch, length, kvHeads, headDim);
            var v = s.In(Random(batch * length * kvHeads * headDim, 66), batch, length, kvHeads, headDim);
            var output = s.Out(batch, length, qHeads, headDim);
            s.Backend.CausalMaskedAttention(q, k, v, s.InInt64(mask, batch, length), output, masked);
            return s.Read(output);
        });
    }
}
