using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Scheduling;
using Flux2.Testing;

namespace Flux2.Pipelines.Tests.Caching;

/// <summary>TaylorSeer (spec §10.2, pitfall 37): the floor-modulo schedule, the factor updates and the extrapolation.</summary>
public class TaylorSeerCacheTests
{
    public static TheoryData<string> Backends => new(TestBackends.Names);

    [Fact]
    public void DefaultScheduleComputesTheWarmupThenEveryFifthStepAndPredictsStepNine()
    {
        var options = new TaylorSeerOptions();
        var computed = Enumerable.Range(0, 26).Where(options.Computes).ToArray();
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 15, 20, 25], computed);
        Assert.False(options.Computes(9)); // (9 − 9 − 1) mod 5 = 4 with floor modulo; truncation would give −1
    }

    [Fact]
    public void ScheduleFollowsIntervalAndWarmup()
    {
        var options = new TaylorSeerOptions { Interval = 3, Warmup = 2 };
        Assert.Equal([0, 1, 3, 6, 9], Enumerable.Range(0, 11).Where(options.Computes).ToArray());
        Assert.Equal(10, Enumerable.Range(0, 10).Count(new TaylorSeerOptions { Interval = 1, Warmup = 1 }.Computes));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void FirstOrderFactorsAndExtrapolation(string backendName)
    {
        using var backend = TestBackends.Create(backendName);
        using var cache = new TaylorSeerCache(backend, new TaylorSeerOptions(), 1, 2);
        float[] F(Tensor t) => backend.DownloadFloat32(t);
        void Update(int step, float[] v)
        {
            using var t = backend.Upload<float>(v, 1, 1, v.Length);
            cache.Update(step, t);
        }
        Update(0, [1f, 2f]); // Δ = 1 before any compute, from the zero state
        Assert.Equal([1f, 2f], F(cache.F0));
        Assert.Equal([1f, 2f], F(cache.F1));
        Update(1, [3f, 5f]);
        Assert.Equal([3f, 5f], F(cache.F0));
        Assert.Equal([2f, 3f], F(cache.F1));
        Assert.Equal([0f, 0f], F(cache.F2));
        Update(3, [7f, 5f]); // Δ = 2
        Assert.Equal([2f, 0f], F(cache.F1));

        using var v = backend.Allocate(DType.Float32, 1, 1, 2);
        cache.Extrapolate(5, v); // δ = 2
        Assert.Equal([11f, 5f], F(v));
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void SecondOrderFactorsAndExtrapolation(string backendName)
    {
        using var backend = TestBackends.Create(backendName);
        using var cache = new TaylorSeerCache(backend, new TaylorSeerOptions { MaxOrder = 2 }, 1, 1);
        float[] F(Tensor t) => backend.DownloadFloat32(t);
        void Update(int step, float value)
        {
            using var t = backend.Upload<float>([value], 1, 1, 1);
            cache.Update(step, t);
        }
        Update(0, 1f); // f1 = 1, f2 = (1 − 0)/1 = 1
        Assert.Equal([1f], F(cache.F2));
        Update(1, 2f); // f1 = 1, f2 = 0
        Assert.Equal([0f], F(cache.F2));
        Update(3, 6f); // Δ = 2: f1 = (6 − 2)/2 = 2, f2 = (2 − 1)/2 = 0.5
        Assert.Equal([6f], F(cache.F0));
        Assert.Equal([2f], F(cache.F1));
        Assert.Equal([0.5f], F(cache.F2));

        using var v = backend.Allocate(DType.Float32, 1, 1, 1);
        cache.Extrapolate(4, v); // 6 + 2·1 + ½·0.5·1
        Assert.Equal(8.25f, F(v)[0]);
        cache.Extrapolate(5, v); // 6 + 2·2 + ½·0.5·4
        Assert.Equal(11f, F(v)[0]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void LoopSkipsTheModelOnPredictedStepsWithSeparateStatesPerCfgStream(string backendName)
    {
        // Each stream's prediction grows linearly with its own call count, so an exact first-order extrapolation
        // of one stream's history gives the value the model would have returned at that step.
        using var backend = TestBackends.Create(backendName);
        var model = new ScriptedVelocityModel(backend, (call, prompt) => prompt * (1 + call / 2));
        var schedule = FlowMatchSchedule.Create(12, 2);
        using var positive = ScriptedVelocityModel.Prompt(backend, 3f);
        using var negative = ScriptedVelocityModel.Prompt(backend, -1f);
        using var latents = backend.Allocate(DType.Float32, 1, 2, ScriptedVelocityModel.Features);
        var velocities = new List<float>();

        int reused = DenoisingLoop.Run(new(model, schedule, positive, negative, 2.0, null, null, new TaylorSeerOptions()), latents, 1, 2, 0, 1,
            s => velocities.Add(s.Backend.DownloadFloat32(s.Velocity)[0]), default);

        Assert.Equal(2, reused); // steps 9 and 11
        Assert.Equal(20, model.FullPasses); // steps 0–8 and 10, two streams each
        // Computed step k (k-th compute of each stream): v_pos = 3(1 + k), v_neg = −(1 + k), CFG = v_neg + 2(v_pos − v_neg) = 7(1 + k).
        Assert.Equal(7f * 9, velocities[8]);
        Assert.Equal(7f * 10, velocities[9]); // extrapolated: f0 + f1·1 per stream
        Assert.Equal(7f * 10, velocities[10]); // step 10 computed: the 10th call of each stream
        // Step 11 extrapolates from steps 8 and 10 (Δ = 2): v_pos = 30 + 1.5, v_neg = −10 − 0.5, CFG = −10.5 + 2·42.
        Assert.Equal(73.5f, velocities[11]);
    }

    [Theory]
    [InlineData(0, 9, 1, "interval")]
    [InlineData(5, 0, 1, "warm-up")]
    [InlineData(5, 9, 3, "order")]
    public void InvalidSettingsAreRejected(int interval, int warmup, int order, string mentioned)
    {
        var request = new GenerationRequest { Prompt = "x", Cache = new TaylorSeerOptions { Interval = interval, Warmup = warmup, MaxOrder = order } };
        var e = Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(request, PipelineVariant.Dev, null));
        Assert.Contains(mentioned, e.Message);
    }

    [Fact]
    public void AWarmupCoveringEveryStepIsNoted()
    {
        var plan = GenerationPlan.Resolve(new GenerationRequest { Prompt = "x", Cache = new TaylorSeerOptions() }, PipelineVariant.KleinDistilled, null);
        Assert.Contains(plan.Notices, n => n.Contains("every step runs the full model"));
    }
}
