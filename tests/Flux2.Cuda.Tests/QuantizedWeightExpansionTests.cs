using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Decoding;
using Flux2.Core.Numerics;
using Flux2.Cuda.Gemm;

namespace Flux2.Cuda.Tests;

/// <summary>The host side of loading FP8 and NVFP4 Linears onto the GPU (runs without a GPU): rows decoded exactly as the CPU
/// decodes them, kept as fp32 for the exact mode and rounded to bf16 for bf16 products.</summary>
public sealed unsafe class QuantizedWeightExpansionTests
{
    [Theory]
    [InlineData(WeightFormat.Fp8E4M3)]
    [InlineData(WeightFormat.Nvfp4)]
    public void RowsAreTheDecodersValuesInTheTargetFormat(WeightFormat format)
    {
        const int N = 37, K = 80, Row0 = 5, Rows = 30;
        var random = new Random(7);
        using var stored = new HostWeight(format, Enumerable.Range(0, N * K).Select(_ => random.NextSingle() * 2 - 1).ToArray(), N, K);
        var expected = new float[Rows * K];
        fixed (float* e = expected)
            for (int r = 0; r < Rows; r++) WeightRowDecoder.Decode(stored.Weight, Row0 + r, 0, K, e + r * K);
        Assert.Contains(expected, v => v != 0);

        var wide = new float[Rows * K];
        var narrow = new ushort[Rows * K];
        var row = new float[K];
        fixed (float* w = wide, decoded = row)
        fixed (ushort* b = narrow)
        {
            QuantizedWeightExpansion.ExpandRows(stored.Weight, Row0, Rows, WeightFormat.Float32, (byte*)w, decoded);
            QuantizedWeightExpansion.ExpandRows(stored.Weight, Row0, Rows, WeightFormat.BFloat16, (byte*)b, decoded);
        }
        Assert.Equal(expected, wide);
        Assert.Equal(expected.Select(BFloat16Bits.FromFloat), narrow);
    }

    [Fact]
    public void QuantizedFormatsExpandToTheProductsPrecision()
    {
        Assert.True(QuantizedWeightExpansion.Expands(WeightFormat.Fp8E4M3));
        Assert.True(QuantizedWeightExpansion.Expands(WeightFormat.Nvfp4));
        Assert.False(QuantizedWeightExpansion.Expands(WeightFormat.BFloat16));
        Assert.Equal(WeightFormat.BFloat16, QuantizedWeightExpansion.Target(ComputePrecision.BFloat16));
        Assert.Equal(WeightFormat.Float32, QuantizedWeightExpansion.Target(ComputePrecision.Float32));
    }
}
