using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Decoding;
using Flux2.Core.Numerics;
using Flux2.Cuda.Gemm;

namespace Flux2.Cuda.Tests;

/// <summary>The host side of loading FP8, NVFP4, f32 and f16 Linears onto the GPU (runs without a GPU): rows decoded exactly as
/// the CPU decodes them, kept as fp32 for the exact mode and rounded to bf16 for bf16 products.</summary>
public sealed unsafe class WeightExpansionTests
{
    [Theory]
    [InlineData(WeightFormat.Fp8E4M3)]
    [InlineData(WeightFormat.Nvfp4)]
    [InlineData(WeightFormat.Float32)]
    [InlineData(WeightFormat.Float16)]
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
            WeightExpansion.ExpandRows(stored.Weight, Row0, Rows, WeightFormat.Float32, (byte*)w, decoded);
            WeightExpansion.ExpandRows(stored.Weight, Row0, Rows, WeightFormat.BFloat16, (byte*)b, decoded);
        }
        Assert.Equal(expected, wide);
        Assert.Equal(expected.Select(BFloat16Bits.FromFloat), narrow);
    }

    [Fact]
    public void GgufBlocksExpandToGgmlsValues()
    {
        using var file = Core.Gguf.GgufFile.Open(Flux2.Tests.Fixtures.File("gguf", "ggml_blocks.gguf"));
        var expected = file.Get("expected.Q4_K").ToFloat32Array();
        var blocks = new LinearWeight("blocks.Q4_K", 3, 512, WeightFormat.GgmlBlocks, file.GetStored("blocks.Q4_K").Data, file,
            blockType: Core.Gguf.GgmlType.Q4_K);
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
            Assert.True(WeightExpansion.Expands(blocks, precision, computeCapability: 90));
        var wide = new float[3 * 512];
        var narrow = new ushort[3 * 512];
        var row = new float[512];
        fixed (float* w = wide, decoded = row)
        fixed (ushort* b = narrow)
        {
            WeightExpansion.ExpandRows(blocks, 0, 3, WeightFormat.Float32, (byte*)w, decoded);
            WeightExpansion.ExpandRows(blocks, 0, 3, WeightFormat.BFloat16, (byte*)b, decoded);
        }
        Assert.Equal(expected, wide);
        Assert.Equal(expected.Select(BFloat16Bits.FromFloat), narrow);
    }

    [Fact]
    public void QuantizedFormatsAndWideFormatsForBf16ProductsExpandToTheProductsPrecision()
    {
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        {
            Assert.True(Expands(WeightFormat.Fp8E4M3, precision, computeCapability: 80));
            Assert.True(Expands(WeightFormat.Nvfp4, precision, computeCapability: 90));
            Assert.False(Expands(WeightFormat.BFloat16, precision, computeCapability: 90));
        }
        Assert.True(Expands(WeightFormat.Float32, ComputePrecision.BFloat16, 90));
        Assert.True(Expands(WeightFormat.Float16, ComputePrecision.BFloat16, 90));
        Assert.False(Expands(WeightFormat.Float32, ComputePrecision.Float32, 90));
        Assert.False(Expands(WeightFormat.Float16, ComputePrecision.Float32, 90));
        Assert.Equal(WeightFormat.BFloat16, WeightExpansion.Target(ComputePrecision.BFloat16));
        Assert.Equal(WeightFormat.Float32, WeightExpansion.Target(ComputePrecision.Float32));
    }

    /// <summary>FP8 stays as stored only where cuBLASLt's FP8 GEMM runs it: bf16 products, sm_89 or later, and both sides
    /// multiples of 16; the exact mode keeps the dequantised values.</summary>
    [Fact]
    public void Fp8StaysFp8OnlyForBf16ProductsOnFp8TensorCores()
    {
        Assert.False(Expands(WeightFormat.Fp8E4M3, ComputePrecision.BFloat16, computeCapability: 89));
        Assert.False(Expands(WeightFormat.Fp8E4M3, ComputePrecision.BFloat16, computeCapability: 100));
        Assert.True(Expands(WeightFormat.Fp8E4M3, ComputePrecision.BFloat16, computeCapability: 86));
        Assert.True(Expands(WeightFormat.Fp8E4M3, ComputePrecision.Float32, computeCapability: 90));
        Assert.True(Expands(WeightFormat.Fp8E4M3, ComputePrecision.BFloat16, computeCapability: 90, n: 40));
        Assert.True(Expands(WeightFormat.Fp8E4M3, ComputePrecision.BFloat16, computeCapability: 90, k: 72));
    }

    private static bool Expands(WeightFormat format, ComputePrecision precision, int computeCapability, int n = 32, int k = 64)
    {
        using var stored = new HostWeight(format, new float[n * k], n, k);
        return WeightExpansion.Expands(stored.Weight, precision, computeCapability);
    }
}
