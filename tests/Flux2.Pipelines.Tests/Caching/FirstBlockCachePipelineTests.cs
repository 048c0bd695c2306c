using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.Transformer;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Images;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Caching;

/// <summary>First-Block-Cache through <see cref="Flux2Pipeline.Generate"/> on the pipe_t2i / pipe_edit golden setup
/// (tiny_dev + vae_small, 96x128, 4 steps), through the CPU backend and the opaque test backend.</summary>
public sealed class FirstBlockCachePipelineTests(TinyDevModel model) : IClassFixture<TinyDevModel>
{
    public static TheoryData<string> Backends => new(TestBackends.Names);

    private GoldenPipelineRun Generate(SafeTensorsFile io, CacheOptions? cache, string backend)
    {
        using var pipeline = TestPipeline.Load(model.Folder, backend);
        return GoldenPipelineRun.Generate(pipeline, io, cache);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ThresholdZeroNeverReusesAndReproducesTheUncachedPipelineBitExactly(string backend)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        var plain = Generate(io, null, backend);
        var cached = Generate(io, new FirstBlockCacheOptions { Threshold = 0 }, backend);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(plain.Velocities[i], cached.Velocities[i]);
            Assert.Equal(plain.Latents[i], cached.Latents[i]);
        }
        Assert.Equal(plain.Image.Decoded, cached.Image.Decoded);
        Assert.Contains("0/4 steps reused the cache", cached.Notices);
        Assert.DoesNotContain(plain.Notices, n => n.Contains("cache"));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void AHugeThresholdReusesEveryStepAfterTheFirst(string backend)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        var run = Generate(io, new FirstBlockCacheOptions { Threshold = 1e30 }, backend);
        FloatComparison.AssertClose(io.Get("trace.step0.noise_pred").ToFloat32Array(), run.Velocities[0], 1e-4, 1e-4, "step 0");
        for (int i = 1; i < 4; i++) Assert.Equal(run.Velocities[0], run.Velocities[i]);
        Assert.Contains("3/4 steps reused the cache", run.Notices);
    }

    /// <summary>pipe_edit has 48 noisy and 16 reference tokens. The relative change of step 1 is computed here from the
    /// transformer's own trace over the noisy rows and over all rows; a threshold between the two must decide as the
    /// noisy-rows value says. The two differ by about 4e-3, the pipeline's inputs from the golden ones by about 1e-5.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void TheRelativeChangeCoversTheNoisyTokensOnly(string backend)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_edit.io.safetensors"));
        var residuals = new[] { FirstBlockResidual(io, 0), FirstBlockResidual(io, 1) };
        int noisyValues = residuals[0].Length * 48 / 64;
        double noisy = Relative(residuals[1].AsSpan(0, noisyValues), residuals[0].AsSpan(0, noisyValues));
        double all = Relative(residuals[1], residuals[0]);
        Assert.True(Math.Abs(noisy - all) > 1e-3, $"noisy {noisy} and all-token {all} changes are too close to tell apart");

        var run = Generate(io, new FirstBlockCacheOptions { Threshold = (noisy + all) / 2 }, backend);
        bool reusedStep1 = run.Velocities[1].AsSpan().SequenceEqual(run.Velocities[0]);
        Assert.Equal(noisy < all, reusedStep1);
    }

    /// <summary>Double block 0's image-stream residual [64 · D] on the golden input of <paramref name="step"/>.</summary>
    private float[] FirstBlockResidual(SafeTensorsFile io, int step)
    {
        using var transformer = Flux2Transformer.Load(Path.Combine(model.Folder, "transformer"), new CpuBackend());
        float[] before = [], after = [];
        transformer.Trace = (name, t) =>
        {
            if (name == "img_in") before = t.ToArray<float>();
            if (name == "double_blocks.0.img") after = t.ToArray<float>();
        };
        using var hidden = io.Get($"trace.step{step}.model_hidden_states").ToFloat32Tensor();
        using var encoder = io.Get("inputs.prompt_embeds").ToFloat32Tensor();
        using var timestep = io.Get($"trace.step{step}.model_timestep").ToFloat32Tensor();
        using var guidance = io.Get("trace.guidance").ToFloat32Tensor();
        using var imgIds = io.Get($"trace.step{step}.model_img_ids").ToInt64Tensor();
        using var txtIds = io.Get("inputs.text_ids").ToInt64Tensor();
        using var output = transformer.Forward(hidden, encoder, timestep, guidance, imgIds, txtIds);
        return after.Zip(before, (a, b) => a - b).ToArray();
    }

    private static double Relative(ReadOnlySpan<float> r, ReadOnlySpan<float> previous)
    {
        double change = 0, magnitude = 0;
        for (int i = 0; i < r.Length; i++)
        {
            change += Math.Abs(r[i] - previous[i]);
            magnitude += Math.Abs(previous[i]);
        }
        return change / r.Length / (magnitude / r.Length + 1e-9);
    }
}
