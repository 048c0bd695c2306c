using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Scheduling;
using Flux2.Testing;

namespace Flux2.Pipelines.Tests.Caching;

/// <summary>First-Block-Cache's decision and state (spec §10.1, pitfall 38) on scripted image streams, through the CPU
/// backend and the opaque test backend.</summary>
public class FirstBlockCacheTests
{
    public static TheoryData<string> Backends => new(TestBackends.Names);

    private const int ImageTokens = 2, ReferenceTokens = 3, Rows = ImageTokens + ReferenceTokens;

    /// <summary>An image stream [1, Rows, 4] whose noisy rows are <paramref name="noisy"/> and reference rows <paramref name="reference"/>.</summary>
    private static float[] Stream(float noisy, float reference) =>
        Enumerable.Range(0, Rows * ScriptedVelocityModel.Features).Select(i => i < ImageTokens * ScriptedVelocityModel.Features ? noisy : reference).ToArray();

    /// <summary>Runs the loop with First-Block-Cache over the residuals (noisy value, reference value) of each call; returns
    /// the velocity of every step and the model.</summary>
    private static (List<float> Velocities, ScriptedVelocityModel Model, int Reused) Run(string backendName, double threshold,
        (float Noisy, float Reference)[] residuals)
    {
        using var backend = TestBackends.Create(backendName);
        var model = new ScriptedVelocityModel(backend, (call, _) => call + 1,
            call => (Stream(1f, 2f), Stream(1f + residuals[call].Noisy, 2f + residuals[call].Reference), Rows));
        using var prompt = ScriptedVelocityModel.Prompt(backend, 1f);
        using var latents = backend.Allocate(DType.Float32, 1, ImageTokens, ScriptedVelocityModel.Features);
        var velocities = new List<float>();
        int reused = DenoisingLoop.Run(new(model, FlowMatchSchedule.Create(residuals.Length, ImageTokens), prompt, null, 1, null, null,
            new FirstBlockCacheOptions { Threshold = threshold }), latents, 1, ImageTokens, 0, 1,
            s => velocities.Add(s.Backend.DownloadFloat32(s.Velocity)[0]), default);
        return (velocities, model, reused);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void AHitReusesThePreviousVelocityAndAMissRunsTheModel(string backendName)
    {
        // rel: step 1 = 0.04 (hit), step 2 = 0.5 (miss), step 3 = 0.01 (hit)
        var (velocities, model, reused) = Run(backendName, 0.05, [(1f, 0f), (1.04f, 0f), (1.56f, 0f), (1.5756f, 0f)]);
        Assert.Equal([1f, 1f, 3f, 3f], velocities); // full passes at calls 0 and 2 return 1 and 3
        Assert.Equal(2, model.FullPasses);
        Assert.Equal(2, reused);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ThePreviousResidualFollowsHitsToo(string backendName)
    {
        // Residuals drift 4 % per step: each step is a hit against the step before. Were r_prev kept from the last full
        // pass, step 2 would compare 1.0816 with 1 (8 %) and miss.
        var (velocities, model, _) = Run(backendName, 0.05, [(1f, 0f), (1.04f, 0f), (1.0816f, 0f), (1.124864f, 0f)]);
        Assert.Equal([1f, 1f, 1f, 1f], velocities);
        Assert.Equal(1, model.FullPasses);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ReferenceTokensDoNotEnterTheRelativeChange(string backendName)
    {
        // The noisy rows' residual is constant while the reference rows' residual changes by a factor 100 each step.
        var (_, model, reused) = Run(backendName, 0.05, [(1f, 1f), (1f, 100f), (1f, 10000f)]);
        Assert.Equal(1, model.FullPasses);
        Assert.Equal(2, reused);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void TheFirstStepAlwaysRunsTheModelEvenWithAZeroResidual(string backendName)
    {
        var (velocities, model, _) = Run(backendName, 1.0, [(0f, 0f), (0f, 0f)]);
        Assert.Equal([1f, 1f], velocities);
        Assert.Equal(1, model.FullPasses);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void ThresholdZeroNeverReuses(string backendName)
    {
        var (_, model, reused) = Run(backendName, 0, [(1f, 0f), (1f, 0f), (1f, 0f)]);
        Assert.Equal((3, 0), (model.FullPasses, reused));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CfgStreamsKeepSeparateStates(string backendName)
    {
        // Calls alternate positive, negative. The positive residual is constant (hits); the negative one doubles (misses).
        float[] noisy = [1f, 1f, 1f, 2f, 1f, 4f];
        using var backend = TestBackends.Create(backendName);
        var model = new ScriptedVelocityModel(backend, (call, prompt) => prompt * (call + 1),
            call => (Stream(0f, 0f), Stream(noisy[call], 0f), Rows));
        using var positive = ScriptedVelocityModel.Prompt(backend, 1f);
        using var negative = ScriptedVelocityModel.Prompt(backend, -1f);
        using var latents = backend.Allocate(DType.Float32, 1, ImageTokens, ScriptedVelocityModel.Features);
        int reused = DenoisingLoop.Run(new(model, FlowMatchSchedule.Create(3, ImageTokens), positive, negative, 2.0, null, null,
            new FirstBlockCacheOptions()), latents, 1, ImageTokens, 0, 1, null, default);
        Assert.Equal(4, model.FullPasses); // step 0: both; steps 1 and 2: the negative stream only
        Assert.Equal(0, reused); // a step counts as reused only when no stream ran the model
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    public void InvalidThresholdIsRejected(double threshold)
    {
        var request = new GenerationRequest { Prompt = "x", Cache = new FirstBlockCacheOptions { Threshold = threshold } };
        var e = Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(request, PipelineVariant.Dev, null));
        Assert.Contains("First-Block-Cache threshold", e.Message);
    }

    [Fact]
    public void KleinIsLabelledExperimental()
    {
        var request = new GenerationRequest { Prompt = "x", Cache = new FirstBlockCacheOptions() };
        Assert.Contains(GenerationPlan.Resolve(request, PipelineVariant.KleinDistilled, null).Notices, n => n.Contains("experimental"));
        Assert.DoesNotContain(GenerationPlan.Resolve(request, PipelineVariant.Dev, null).Notices, n => n.Contains("experimental"));
    }
}
