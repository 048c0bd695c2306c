using Flux2.Core;
using Flux2.Cpu.Conv;
using Flux2.Cpu.Threading;
using Flux2.Tests;

namespace Flux2.Cpu.Tests.Conv;

public sealed unsafe class GroupNormKernelTests : IDisposable
{
    private readonly ComputePool _pool = new(3);
    private readonly CpuBackend _backend;

    public GroupNormKernelTests()
    {
        _backend = new CpuBackend(_pool);
    }

    public void Dispose() => _pool.Dispose();

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 32, 7, 32)]
    [InlineData(1, 64, 15, 32)]
    [InlineData(2, 17, 16, 17)]
    [InlineData(1, 64, 17, 1)]
    [InlineData(1, 96, 63, 32)]
    [InlineData(2, 4, 65, 2)]
    [InlineData(1, 2, 4097, 1)]
    public void Matches_the_reference(int batch, int channels, int plane, int groups)
    {
        var rng = new Random(batch * 7 + channels * 13 + plane);
        using var x = ConvTestData.Random(rng, 2, 0.3f, batch, channels, plane, 1);
        using var gamma = ConvTestData.Random(rng, 0.2f, 1, channels);
        using var beta = ConvTestData.Random(rng, 0.2f, 0, channels);
        foreach (bool silu in new[] { false, true })
        {
            using var actual = Tensor.Zeros(x.Shape);
            using var expected = Tensor.Zeros(x.Shape);
            _backend.GroupNorm(x, groups, 1e-6f, gamma, beta, silu, actual);
            GroupNormReference.Run(x.Float32Pointer, batch, channels, plane, groups, 1e-6f, gamma.Float32Pointer,
                beta.Float32Pointer, silu, expected.Float32Pointer);
            float diff = FloatComparison.MaxAbsDiff(expected.AsSpan<float>(), actual.AsSpan<float>());
            Assert.True(diff <= 2e-5f, $"silu={silu}: max |kernel - reference| = {diff}");
        }
    }

    [Fact]
    public void Stays_accurate_when_the_mean_dwarfs_the_spread()
    {
        // Variance 3e-5 against E[x²] = 900: a one-pass E[x²] − E[x]² in fp32 would lose every digit.
        var rng = new Random(3);
        using var x = ConvTestData.Random(rng, 0.01f, 30f, 1, 4, 64, 64);
        AssertMatchesTheReference(x, groups: 2, bound: 1e-3f);
    }

    [Fact]
    public void Blocks_of_different_means_combine_into_the_groups_statistics()
    {
        // Each 4096-value block of a group is summarised on its own; here the blocks' means are 0, 40, −25 and 3, so the
        // combination carries most of the variance.
        var rng = new Random(5);
        using var x = ConvTestData.Random(rng, 0.5f, 0, 1, 4, 64, 64);
        float[] offsets = [0, 40, -25, 3];
        var values = x.AsSpan<float>();
        for (int c = 0; c < 4; c++)
            for (int i = 0; i < 4096; i++) values[c * 4096 + i] += offsets[c];
        AssertMatchesTheReference(x, groups: 1, bound: 2e-5f);
    }

    /// <summary>x [1, C, H, W] normalised without affine (gamma 1, beta 0) by the kernel and by the reference.</summary>
    private void AssertMatchesTheReference(Tensor x, int groups, float bound)
    {
        int channels = x.Shape[1], plane = x.Shape[2] * x.Shape[3];
        using var gamma = ConvTestData.Random(new Random(1), 0, 1, channels);
        using var beta = ConvTestData.Random(new Random(1), 0, 0, channels);
        using var actual = Tensor.Zeros(x.Shape);
        using var expected = Tensor.Zeros(x.Shape);
        _backend.GroupNorm(x, groups, 1e-6f, gamma, beta, false, actual);
        GroupNormReference.Run(x.Float32Pointer, 1, channels, plane, groups, 1e-6f, gamma.Float32Pointer, beta.Float32Pointer, false,
            expected.Float32Pointer);
        float diff = FloatComparison.MaxAbsDiff(expected.AsSpan<float>(), actual.AsSpan<float>());
        Assert.True(diff <= bound, $"max |kernel - reference| = {diff}");
    }

    [Fact]
    public void Rejects_channels_not_divisible_by_the_groups()
    {
        using var x = Tensor.Zeros(1, 6, 2, 2);
        using var y = Tensor.Zeros(1, 6, 2, 2);
        using var gamma = Tensor.Zeros(6);
        Assert.Throws<ArgumentException>(() => _backend.GroupNorm(x, 4, 1e-6f, gamma, gamma, false, y));
        Assert.Throws<ArgumentException>(() => _backend.GroupNorm(x, 3, 1e-6f, gamma, gamma, false, x));
    }
}
