using Flux2.Core;
using Flux2.Core.Backend;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>The sampler's and the latents' ops on the GPU against the CPU backend. The sampler rounds like the CPU, so its
/// results must match exactly. Skipped without a GPU.</summary>
public sealed class GpuSamplerAndLatentOpTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    private const ComputePrecision Exact = ComputePrecision.Float32;

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(70001)]
    public void SamplerArithmeticMatchesExactly(int n)
    {
        comparison.Compare($"EulerStep n{n}", Exact, s =>
        {
            var x = s.InFloat32(Random(n, 30), n);
            s.Backend.EulerStep(x, s.InFloat32(Random(n, 31), n), -0.0371f);
            return s.Read(x);
        }, tolerance: 0);
        comparison.Compare($"GuidanceCombine n{n}", Exact, s =>
        {
            var v = s.InFloat32(Random(n, 32), n);
            s.Backend.GuidanceCombine(v, s.InFloat32(Random(n, 33), n), 4f);
            return s.Read(v);
        }, tolerance: 0);
        foreach (bool second in new[] { false, true })
        {
            comparison.Compare($"TaylorUpdate n{n} second {second}", Exact, s =>
            {
                var f0 = s.InFloat32(Random(n, 34), n);
                var f1 = s.InFloat32(Random(n, 35), n);
                var f2 = s.InFloat32(Random(n, 36), n);
                s.Backend.TaylorUpdate(f0, f1, f2, s.InFloat32(Random(n, 37), n), 3f, second);
                return [.. s.Read(f0), .. s.Read(f1), .. s.Read(f2)];
            }, tolerance: 0);
            comparison.Compare($"TaylorExtrapolate n{n} second {second}", Exact, s =>
            {
                var v = s.OutFloat32(n);
                s.Backend.TaylorExtrapolate(s.InFloat32(Random(n, 38), n), s.InFloat32(Random(n, 39), n), s.InFloat32(Random(n, 40), n), 2.5f, second, v);
                return s.Read(v);
            }, tolerance: 0);
        }
    }

    /// <summary>The denoising loop over a batch of 2: each sample's noisy tokens copied in front of its reference tokens
    /// (row-range views, as the loop copies them), guidance combined and an Euler step on the whole batch, then a step of
    /// sample 1 alone through its [1, L, C] view.</summary>
    [Fact]
    public void SamplerStepsOverABatchOfTokenRows() =>
        comparison.Compare("sampler over a batch of 2 (token rows, views)", Exact, s =>
        {
            const int batch = 2, tokens = 6, references = 3, channels = 8, n = batch * tokens * channels;
            var latents = s.InFloat32(Random(n, 48), batch, tokens, channels);
            var hidden = s.InFloat32(Random(batch * (tokens + references) * channels, 49), batch, tokens + references, channels);
            for (int b = 0; b < batch; b++) s.Backend.Copy(Rows(latents, b, tokens), Rows(hidden, b, tokens));
            var velocity = s.InFloat32(Random(n, 50), batch, tokens, channels);
            s.Backend.GuidanceCombine(velocity, s.InFloat32(Random(n, 51), batch, tokens, channels), 4f);
            s.Backend.EulerStep(latents, velocity, -0.0371f);
            s.Backend.EulerStep(latents.Slice0(1, 1), velocity.Slice0(1, 1), 0.25f);
            return [.. s.Read(hidden), .. s.Read(velocity), .. s.Read(latents)];
        }, tolerance: 0);

    /// <summary>The first <paramref name="count"/> token rows of batch element b of t [B, L, C], as [1, count, C].</summary>
    private static Tensor Rows(Tensor t, int b, int count) =>
        t.Slice0(b, 1).Reshape(t.Shape[1], t.Shape[2]).Slice0(0, count).Reshape(1, count, t.Shape[2]);

    /// <summary>First-Block-Cache's residuals are the image stream's, so ResidualChange runs in both activation types;
    /// in bf16 the stored residual is rounded to bf16 (measured 1.5e-5 from the CPU's fp32: the difference of two bf16 values
    /// is mostly exact).</summary>
    [Theory]
    [InlineData(1, ComputePrecision.Float32)]
    [InlineData(70001, ComputePrecision.Float32)]
    [InlineData(70001, ComputePrecision.BFloat16)]
    public void ResidualChange(int n, ComputePrecision precision) =>
        comparison.Compare($"ResidualChange n{n} (residual, sums)", precision, s =>
        {
            var residual = s.In(Random(n, 41), n);
            var (change, previous) = s.Backend.ResidualChange(s.In(Random(n, 42), n), residual, s.In(Random(n, 43), n));
            return [.. s.Read(residual), (float)change, (float)previous];
        }, tolerance: precision == Exact ? 1e-7 : 1e-4);

    [Fact]
    public void LatentLayouts()
    {
        comparison.Compare("Patchify2x2 and back", Exact, s =>
        {
            var z = s.InFloat32(Random(2 * 3 * 6 * 10, 44), 2, 3, 6, 10);
            var patched = s.OutFloat32(2, 12, 3, 5);
            var back = s.OutFloat32(2, 3, 6, 10);
            s.Backend.Patchify2x2(z, patched);
            s.Backend.Unpatchify2x2(patched, back);
            return [.. s.Read(patched), .. s.Read(back)];
        }, tolerance: 0);
        comparison.Compare("Normalize and DenormalizeChannels", Exact, s =>
        {
            var x = s.InFloat32(Random(2 * 4 * 5 * 3, 45, 3f), 2, 4, 5, 3);
            var mean = s.InFloat32(Random(4, 46), 4);
            var std = s.InFloat32([0.5f, 1.25f, 2f, 0.75f], 4);
            var y = s.OutFloat32(2, 4, 5, 3);
            s.Backend.NormalizeChannels(x, mean, std, y);
            var normalized = s.Read(y);
            s.Backend.DenormalizeChannels(y, mean, std, y);
            return [.. normalized, .. s.Read(y)];
        }, tolerance: 0);
    }

    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void ImagesAndPixels(ComputePrecision precision)
    {
        var bytes = Enumerable.Range(0, 2 * 5 * 7 * 3).Select(i => (byte)(i * 37 % 256)).ToArray();
        comparison.Compare("ImageToPixels", precision, s =>
        {
            var pixels = s.OutFloat32(2, 3, 5, 7);
            s.Backend.ImageToPixels(s.Keep(s.Backend.Upload<byte>(bytes, 2, 5, 7, 3)), pixels);
            return s.Read(pixels);
        }, tolerance: 0);
        comparison.Compare("PixelsToImage bytes and unit floats", precision, s =>
        {
            var pixels = s.In(Random(2 * 3 * 5 * 7, 47, 1.2f), 2, 3, 5, 7);
            var image = s.Poisoned(DType.UInt8, 2, 5, 7, 3);
            var unit = s.OutFloat32(2, 5, 7, 3);
            s.Backend.PixelsToImage(pixels, image);
            s.Backend.PixelsToImage(pixels.DType == DType.Float32 ? pixels : Widened(s, pixels), unit);
            return [.. Array.ConvertAll(s.Read<byte>(image), b => (float)b), .. s.Read(unit)];
        }, tolerance: 0);
    }

    /// <summary>The CPU backend takes Float32 pixels only; the GPU also bf16. Both sides see the same values.</summary>
    private static Tensor Widened(ComparisonSide s, Tensor pixels) => s.InFloat32(s.Read(pixels), pixels.Shape);
}
