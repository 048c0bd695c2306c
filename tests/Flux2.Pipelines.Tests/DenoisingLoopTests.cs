using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;
using Flux2.Pipelines.Scheduling;
using Flux2.Testing;

namespace Flux2.Pipelines.Tests;

public class DenoisingLoopTests
{
    /// <summary>v = a·x + b·t per element of the noisy tokens, with b depending on the prompt. Records what it was fed,
    /// reading and writing the loop's tensors only through the backend. Its klein 9B-KV passes take the noisy tokens after
    /// the reference tokens (extracting) or alone (from the cache it gave).</summary>
    private sealed class FakeModel(IBackend backend, int imageTokens) : IVelocityModel
    {
        public List<(string Pass, float[] Hidden, long[] Ids, ReferenceKvCache? Cache)> KvCalls { get; } = [];
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
            Velocity(h, 0, prompt, timestep, velocity);
            return true;
        }

        public ReferenceKvCache PredictExtractingReferences(Tensor hiddenStates, int referenceTokens, Tensor imageIds, PromptEmbedding prompt,
            float timestep, Tensor velocity)
        {
            var h = backend.DownloadFloat32(hiddenStates);
            var cache = new ReferenceKvCache(backend, hiddenStates.Shape[0], referenceTokens, 1, 2);
            KvCalls.Add(("extract", h, backend.Download<long>(imageIds), cache));
            Timesteps.Add(timestep);
            Velocity(h, referenceTokens * hiddenStates.Shape[2], prompt, timestep, velocity);
            return cache;
        }

        public void PredictWithReferences(Tensor hiddenStates, ReferenceKvCache references, Tensor imageIds, PromptEmbedding prompt, float timestep,
            Tensor velocity)
        {
            var h = backend.DownloadFloat32(hiddenStates);
            KvCalls.Add(("cached", h, backend.Download<long>(imageIds), references));
            Timesteps.Add(timestep);
            Velocity(h, 0, prompt, timestep, velocity);
        }

        /// <summary>v = 0.5·x + b·t over the noisy tokens, which start at <paramref name="offset"/> of the hidden states.</summary>
        private void Velocity(float[] h, int offset, PromptEmbedding prompt, float timestep, Tensor velocity)
        {
            float b = backend.DownloadFloat32(prompt.Embeddings)[0];
            var v = new float[velocity.Length];
            for (int i = 0; i < v.Length; i++) v[i] = 0.5f * h[offset + i] + b * timestep;
            backend.Upload<float>(v, velocity);
        }
    }

    public static TheoryData<string> Backends => new(TestBackends.Names);

    private static PromptEmbedding Prompt(IBackend backend, float value) =>
        PromptEmbedding.Upload(backend, Enumerable.Repeat(value, 3 * 8).ToArray(), 3, 8);

    /// <summary>Three steps on a 2×2 grid of 4 channels with a 1×2 reference (t = 10), from sin(i).</summary>
    private sealed class ReferenceCase : IDisposable
    {
        public const int Grid = 2, Tokens = Grid * Grid, Channels = 4;

        public ReferenceCase(string backendName)
        {
            Backend = TestBackends.Create(backendName);
            Model = new FakeModel(Backend, Tokens);
            Prompt = Prompt(Backend, 1f);
            References = new ReferenceTokens(Backend.Upload<float>(ReferenceValues, 1, 2, Channels), LatentIds.Image(1, 2, 10), [(32, 16)]);
            Latents = Backend.Upload<float>(Start, 1, Tokens, Channels);
        }

        public IBackend Backend { get; }
        public FakeModel Model { get; }
        public FlowMatchSchedule Schedule { get; } = FlowMatchSchedule.Create(3, Tokens);
        public PromptEmbedding Prompt { get; }
        public float[] ReferenceValues { get; } = Enumerable.Range(0, 2 * Channels).Select(i => i * 0.1f - 0.3f).ToArray();
        public ReferenceTokens References { get; }
        public float[] Start { get; } = Enumerable.Range(0, Tokens * Channels).Select(i => (float)Math.Sin(i)).ToArray();
        public Tensor Latents { get; }

        /// <summary>The latents the fake's v = 0.5·x + t gives before each step, then after the last.</summary>
        public List<float[]> ExpectedLatents()
        {
            var x = (float[])Start.Clone();
            var all = new List<float[]> { (float[])x.Clone() };
            for (int step = 0; step < Schedule.Steps; step++)
            {
                float t = Schedule.ModelTimesteps[step], dt = Schedule.EulerDt[step];
                for (int i = 0; i < x.Length; i++) x[i] += dt * (0.5f * x[i] + 1f * t);
                all.Add((float[])x.Clone());
            }
            return all;
        }

        public void Dispose()
        {
            Latents.Dispose();
            References.Dispose();
            Prompt.Dispose();
            Backend.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void EulerUpdatesOnlyNoisyTokensAndKeepsReferencesBitIdentical(string backendName)
    {
        using var c = new ReferenceCase(backendName);
        var seen = new List<int>();
        DenoisingLoop.Run(new(c.Model, c.Schedule, c.Prompt, null, 1.0, 4f, c.References), c.Latents, ReferenceCase.Grid, ReferenceCase.Grid, 0, 1,
            s => seen.Add(s.Step), default);

        Assert.Equal(c.ExpectedLatents()[^1], c.Backend.DownloadFloat32(c.Latents));
        Assert.Equal([1, 2, 3], seen);
        Assert.All(c.Model.ReferenceInputs, r => Assert.Equal(c.ReferenceValues, r));
        Assert.Equal(c.Schedule.ModelTimesteps, c.Model.Timesteps);
        Assert.All(c.Model.Guidances, g => Assert.Equal(4f, g));
        // ids: noisy (0, y, x, 0) first, then the reference's (10, y, x, 0)
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 10, 0, 0, 0, 10, 0, 1, 0], c.Model.Ids[0]);
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void KleinKvRunsItsReferencesFirstAtStepZeroThenFromTheirCache(string backendName)
    {
        using var c = new ReferenceCase(backendName);
        var seen = new List<int>();
        DenoisingLoop.Run(new(c.Model, c.Schedule, c.Prompt, null, 1.0, null, c.References, CachesReferences: true), c.Latents, ReferenceCase.Grid,
            ReferenceCase.Grid, 0, 1, s => seen.Add(s.Step), default);

        var expected = c.ExpectedLatents();
        Assert.Equal(expected[^1], c.Backend.DownloadFloat32(c.Latents));
        Assert.Equal([1, 2, 3], seen);
        Assert.Equal(c.Schedule.ModelTimesteps, c.Model.Timesteps);
        Assert.Empty(c.Model.ReferenceInputs); // no standard pass
        Assert.Equal(["extract", "cached", "cached"], c.Model.KvCalls.Select(k => k.Pass));
        // Step 0: the reference tokens, then the noisy ones; ids likewise.
        Assert.Equal([.. c.ReferenceValues, .. c.Start], c.Model.KvCalls[0].Hidden);
        Assert.Equal([10, 0, 0, 0, 10, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0], c.Model.KvCalls[0].Ids);
        // Later steps: the noisy tokens alone, with the cache step 0 gave.
        for (int step = 1; step < 3; step++)
        {
            Assert.Equal(expected[step], c.Model.KvCalls[step].Hidden);
            Assert.Equal([0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0], c.Model.KvCalls[step].Ids);
            Assert.Same(c.Model.KvCalls[0].Cache, c.Model.KvCalls[step].Cache);
        }
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
