using Flux2.Core;
using Flux2.Core.Backend;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>The VAE's image ops on the GPU against the CPU backend, on ragged shapes, in both precisions. Skipped without a GPU.</summary>
public sealed class GpuVaeOpTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    public static readonly TheoryData<ComputePrecision> Precisions = [ComputePrecision.Float32, ComputePrecision.BFloat16];

    /// <summary>Which operands are Float32 rather than the activation type: the VAE's first convolutions read a Float32 image
    /// or latents, its quant_conv writes Float32 moments.</summary>
    public enum ConvTypes { Activations, Float32X, Float32Y }

    /// <summary>One convolution: batch, Cin, H, W, Cout, kernel, stride, padding, and the chunk budget (0: the backend's).</summary>
    private sealed record ConvCase(int Batch, int InChannels, int Height, int Width, int OutChannels, int Kernel, int Stride,
        Conv2dPadding Padding, long ChunkElements = 0)
    {
        public override string ToString() =>
            $"[{Batch},{InChannels},{Height},{Width}]->{OutChannels} k{Kernel} s{Stride} pad({Padding.Top},{Padding.Bottom},{Padding.Left},{Padding.Right})" +
            (ChunkElements > 0 ? $" chunks of {ChunkElements}" : "");
    }

    private static readonly ConvCase[] Geometries =
    [
        new(2, 5, 7, 9, 6, 1, 1, Conv2dPadding.All(0)),
        new(2, 3, 11, 13, 8, 3, 1, Conv2dPadding.All(1)),                  // Cin·k·k = 27: odd GEMM strides
        new(1, 4, 9, 12, 5, 3, 2, new Conv2dPadding(0, 1, 0, 1)),          // the VAE's downsampler
        new(2, 6, 10, 7, 4, 3, 2, Conv2dPadding.All(1)),
        new(2, 6, 21, 19, 7, 3, 1, Conv2dPadding.All(1), ChunkElements: 1000),  // 18 of 399 pixels per chunk
        new(1, 16, 13, 11, 9, 1, 1, Conv2dPadding.All(0), ChunkElements: 200),  // 12 of 143 pixels per chunk
    ];

    /// <summary>Cases name their geometry by its index in <see cref="Geometries"/> (plain values keep each case its own test).</summary>
    public static TheoryData<ComputePrecision, WeightFormat, int, ConvTypes, bool> ConvCases()
    {
        var data = new TheoryData<ComputePrecision, WeightFormat, int, ConvTypes, bool>();
        foreach (var precision in Precisions)
        foreach (var format in new[] { WeightFormat.BFloat16, WeightFormat.Float32 })
        for (int geometry = 0; geometry < Geometries.Length; geometry++)
        foreach (var types in Enum.GetValues<ConvTypes>())
        foreach (var accumulate in new[] { false, true })
            data.Add(precision, format, geometry, types, accumulate);
        return data;
    }

    /// <summary>y (+)= conv(x) + bias. bf16 weights in bf16 precision take the tensor-core path (bf16 patches), the others
    /// the exact fp32 one; an overwritten y starts poisoned.</summary>
    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2d(ComputePrecision precision, WeightFormat format, int geometry, ConvTypes types, bool accumulate)
    {
        var c = Geometries[geometry];
        int patch = c.InChannels * c.Kernel * c.Kernel;
        int outHeight = (c.Height + c.Padding.Top + c.Padding.Bottom - c.Kernel) / c.Stride + 1;
        int outWidth = (c.Width + c.Padding.Left + c.Padding.Right - c.Kernel) / c.Stride + 1;
        int[] xShape = [c.Batch, c.InChannels, c.Height, c.Width], yShape = [c.Batch, c.OutChannels, outHeight, outWidth];
        using var stored = new HostWeight(format, Random(c.OutChannels * patch, 30, 0.5f), c.OutChannels, patch);
        WithChunkElements(precision, c.ChunkElements, () =>
            comparison.Compare($"Conv2d {format} {c} {types}{(accumulate ? " +=" : "")}", precision, s =>
            {
                using var weight = s.Backend.LoadLinear(stored.Weight);
                var xValues = Random(c.Batch * c.InChannels * c.Height * c.Width, 31, 2f);
                var x = types == ConvTypes.Float32X ? s.InFloat32(xValues, xShape) : s.In(xValues, xShape);
                var bias = s.InFloat32(Random(c.OutChannels, 32), c.OutChannels);
                var yValues = Random(yShape.Aggregate(1, (a, b) => a * b), 33);
                var y = (types == ConvTypes.Float32Y, accumulate) switch
                {
                    (true, true) => s.InFloat32(yValues, yShape),
                    (true, false) => s.OutFloat32(yShape),
                    (false, true) => s.In(yValues, yShape),
                    (false, false) => s.Out(yShape),
                };
                s.Backend.Conv2d(x, weight, c.Kernel, bias, c.Stride, c.Padding, y, accumulate);
                return s.Read(y);
            }));
    }

    public static TheoryData<ComputePrecision, int, int, int, int, int, bool> GroupNormCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int, int, int, bool>();
        foreach (var precision in Precisions)
        foreach (var (batch, channels, height, width, groups) in new[]
                 {
                     (1, 6, 5, 7, 3),       // 2 channels of 35 values per group
                     (2, 40, 9, 11, 8),     // 5 channels per group: groups do not align with warps
                     (2, 32, 48, 50, 4),    // 19200 values per group: several blocks add into each group's sums
                 })
        foreach (var silu in new[] { false, true })
            data.Add(precision, batch, channels, height, width, groups, silu);
        return data;
    }

    /// <summary>Inputs centred away from zero (mean 3, spread 2), as the variance's digits must survive the mean.</summary>
    [Theory]
    [MemberData(nameof(GroupNormCases))]
    public void GroupNorm(ComputePrecision precision, int batch, int channels, int height, int width, int groups, bool silu) =>
        comparison.Compare($"GroupNorm [{batch},{channels},{height},{width}] g{groups}{(silu ? " +SiLU" : "")}", precision, s =>
        {
            var values = Array.ConvertAll(Random(batch * channels * height * width, 34, 2f), v => v + 3f);
            var x = s.In(values, batch, channels, height, width);
            var y = s.Out(batch, channels, height, width);
            s.Backend.GroupNorm(x, groups, 1e-6f, s.InFloat32(Random(channels, 35, 1.5f), channels), s.InFloat32(Random(channels, 36), channels), silu, y);
            return s.Read(y);
        });

    [Theory]
    [MemberData(nameof(Precisions))]
    public void UpsampleNearest2x(ComputePrecision precision) =>
        comparison.Compare("UpsampleNearest2x [2,3,5,7]", precision, s =>
        {
            var y = s.Out(2, 3, 10, 14);
            s.Backend.UpsampleNearest2x(s.In(Random(2 * 3 * 5 * 7, 37), 2, 3, 5, 7), y);
            return s.Read(y);
        }, tolerance: 0);

    public static TheoryData<ComputePrecision, int, int, int> TransposeCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int>();
        foreach (var precision in Precisions)
        foreach (var (batch, rows, columns) in new[] { (2, 37, 45), (1, 1, 70), (3, 33, 1), (1, 100, 65), (2, 64, 32) })
            data.Add(precision, batch, rows, columns);
        return data;
    }

    /// <summary>Ragged sizes leave partial tiles on both edges.</summary>
    [Theory]
    [MemberData(nameof(TransposeCases))]
    public void TransposeLastTwo(ComputePrecision precision, int batch, int rows, int columns) =>
        comparison.Compare($"TransposeLastTwo [{batch},{rows},{columns}]", precision, s =>
        {
            var y = s.Out(batch, columns, rows);
            s.Backend.TransposeLastTwo(s.In(Random(batch * rows * columns, 38), batch, rows, columns), y);
            return s.Read(y);
        }, tolerance: 0);

    public static TheoryData<ComputePrecision, int, int, int, long> MidBlockAttentionCases()
    {
        var data = new TheoryData<ComputePrecision, int, int, int, long>();
        foreach (var precision in Precisions)
        foreach (var (batch, channels, length, chunkElements) in new[] { (1, 512, 70, 0L), (2, 256, 45, 20L * 45), (1, 512, 300, 1000L) })
            data.Add(precision, batch, channels, length, chunkElements);
        return data;
    }

    /// <summary>The VAE mid block's attention: one head as wide as the channels over the H·W positions, beyond the flash
    /// kernel's head dims, so its scores are staged a chunk of query rows at a time (forced small here: 20 rows, then 3).</summary>
    [Theory]
    [MemberData(nameof(MidBlockAttentionCases))]
    public void MidBlockAttention(ComputePrecision precision, int batch, int channels, int length, long chunkElements)
    {
        WithChunkElements(precision, chunkElements, () =>
            comparison.Compare($"Attention one head of {channels}, B{batch} L{length}{(chunkElements > 0 ? $" chunks of {chunkElements}" : "")}", precision, s =>
            {
                var q = s.In(Random(batch * length * channels, 39, 2f), batch, length, channels);
                var k = s.In(Random(batch * length * channels, 40, 2f), batch, length, channels);
                var v = s.In(Random(batch * length * channels, 41, 2f), batch, length, channels);
                var output = s.Out(batch, length, channels);
                s.Backend.Attention(q, 0, k, 0, v, 0, output, 0, heads: 1, headDim: channels, scale: 1f / MathF.Sqrt(channels));
                return s.Read(output);
            }));
    }

    /// <summary>Runs <paramref name="compare"/> with the GPU's staging chunks of <paramref name="chunkElements"/> (0: the
    /// backend's own), restored after.</summary>
    private void WithChunkElements(ComputePrecision precision, long chunkElements, Action compare)
    {
        var gpu = comparison.Gpu(precision);
        long defaultChunk = gpu.ChunkElements;
        if (chunkElements > 0) gpu.ChunkElements = chunkElements;
        try
        {
            compare();
        }
        finally
        {
            gpu.ChunkElements = defaultChunk;
        }
    }

    [Fact]
    public void GroupNormAndTransposeRefuseAnAliasedOutput()
    {
        var gpu = comparison.Gpu(ComputePrecision.Float32);
        using var x = gpu.Allocate(DType.Float32, 1, 4, 3, 3);
        using var gamma = gpu.Allocate(DType.Float32, 4);
        Assert.Contains("must not alias", Assert.Throws<ArgumentException>(() => gpu.GroupNorm(x, 2, 1e-6f, gamma, gamma, false, x)).Message);
        using var square = gpu.Allocate(DType.Float32, 1, 5, 5);
        Assert.Contains("must not alias", Assert.Throws<ArgumentException>(() => gpu.TransposeLastTwo(square, square)).Message);
    }
}
