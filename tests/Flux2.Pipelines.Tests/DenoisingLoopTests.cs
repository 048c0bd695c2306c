using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;
using Flux2.Pipelines.Scheduling;
using Flux2.Testing;

namespace Flux2.Pipelines.Tests;

public class DenoisingLoopTests
{
    /// <summary>v = a·x + b·t per element of the noisy tokens, with b depending on the prompt. Records what it was fed,
    /// reading and writing the loop's tensors only through the backend.</summary>
    private sealed class FakeModel(IBackend backend, int imageTokens) : IVelocityModel
    {
        public List<float[]> ReferenceInputs { get; } = [];
        public List<float> Timesteps { get; } = [];
        public List<float?> Guidances { get; } = [];
        public List<long[]> Ids { get; } = [];
        public IBackend Backend => backend;
        public int TextFeatures => 8;

        public bool Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? firstBlock,
            Tensor velocity)
        {
            int c = hiddenStates.Shape[2];
            var h = backend.DownloadFloat32(hiddenStates);
            ReferenceInputs.Add(h[(imageTokens * c)..]);
            Timesteps.Add(timestep);
            Guidances.Add(guidance);
            Ids.Add(backend.Download<long>(imageIds));
            float b = backend.DownloadFloat32(prompt.Embeddings)[0];
            var v = new float[velocity.Length];
            for (int i = 0; i < v.Length; i++) v[i] = 0.5f * h[i] + b * timestep;
            backend.Upload<float>(v, velocity);
            return true;
        }
    }

    public static TheoryData<string> Backends => new(TestBackends.Names);

    private static PromptEmbedding Prompt(IBackend backend, float value) =>
        PromptEmbedding.Upload(backend, Enumerable.Repeat(value, 3 * 8).ToArray(), 3, 8);

    [Theory]
    [MemberData(nameof(Backends))]
    public void EulerUpdatesOnlyNoisyTokensAndKeepsReferencesBitIdentical(string backendName)
    {
        const int grid = 2, tokens = grid * grid, c = 4;
        using var backend = TestBackends.Create(backendName);
        var model = new FakeModel(backend, tokens);
        var schedule = FlowMatchSchedule.Create(3, tokens);
        using var prompt = Prompt(backend, 1f);
        var refValues = Enumerable.Range(0, 2 * c).Select(i => i * 0.1f - 0.3f).ToArray();
        using var refs = new ReferenceTokens(backend.Upload<float>(refValues, 1, 2, c), LatentIds.Image(1, 2, 10), [(32, 16)]);
        var start = Enumerable.Range(0, tokens * c).Select(i => (float)Math.Sin(i)).ToArray();
        using var latents = backend.Upload<float>(start, 1, tokens, c);

        var seen = new List<int>();
        DenoisingLoop.Run(new(model, schedule, prompt, null, 1.0, 4f, refs), latents, grid, grid, 0, 1, s => seen.Add(s.Step), default);

        var expected = (float[])start.Clone();
        for (int step = 0; step < 3; step++)
        {
            float t = schedule.ModelTimesteps[step], dt = schedule.EulerDt[step];
            for (int i = 0; i < expected.Length; i++) expected[i] += dt * (0.5f * expected[i] + 1f * t);
        }
        Assert.Equal(expected, backend.DownloadFloat32(latents));
        Assert.Equal([1, 2, 3], seen);
        Assert.All(model.ReferenceInputs, r => Assert.Equal(refValues, r));
        Assert.Equal(schedule.ModelTimesteps, model.Timesteps);
        Assert.All(model.Guidances, g => Assert.Equal(4f, g));
        // ids: noisy (0, y, x, 0) first, then the reference's (10, y, x, 0)
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 10, 0, 0, 0, 10, 0, 1, 0], model.Ids[0]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void CfgCombinesPositiveAndNegativeInFp32(string backendName)
    {
        const int tokens = 2, c = 2;
        using var backend = TestBackends.Create(backendName);
        var model = new FakeModel(backend, tokens);
        var schedule = FlowMatchSchedule.Create(2, tokens);
        using var positive = Prompt(backend, 3f);
        using var negative = Prompt(backend, -1f);
        var start = new[] { 0.1f, -0.2f, 0.3f, 0.7f };
        using var latents = backend.Upload<float>(start, 1, tokens, c);

        DenoisingLoop.Run(new(model, schedule, positive, negative, 2.5, null, null), latents, 1, 2, 0, 1, null, default);

        var expected = (float[])start.Clone();
        for (int step = 0; step < 2; step++)
        {
            float t = schedule.ModelTimesteps[step], dt = schedule.EulerDt[step];
            for (int i = 0; i < expected.Length; i++)
            {
                float vPos = 0.5f * expected[i] + 3f * t, vNeg = 0.5f * expected[i] + -1f * t;
                expected[i] += dt * (vNeg + 2.5f * (vPos - vNeg));
            }
        }
        Assert.Equal(expected, backend.DownloadFloat32(latents));
        Assert.Equal(4, model.Timesteps.Count); // two forwards per step
        Assert.All(model.Guidances, g => Assert.Null(g));
    }

    [Fact]
    public void CancellationStopsBeforeTheNextStep()
    {
        using var backend = TestBackends.Create(TestBackends.Cpu);
        var model = new FakeModel(backend, 1);
        using var prompt = Prompt(backend, 1f);
        using var latents = backend.Allocate(DType.Float32, 1, 1, 2);
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => DenoisingLoop.Run(
            new(model, FlowMatchSchedule.Create(4, 1), prompt, null, 1, null, null), latents, 1, 1, 0, 1,
            s => { if (s.Step == 2) cts.Cancel(); }, cts.Token));
        Assert.Equal(2, model.Timesteps.Count);
    }
}
