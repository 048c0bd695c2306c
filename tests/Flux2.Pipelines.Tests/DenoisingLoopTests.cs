using Flux2.Core;
using Flux2.Models.Transformer;
using Flux2.Pipelines.Scheduling;

namespace Flux2.Pipelines.Tests;

public class DenoisingLoopTests
{
    /// <summary>v = a·x + b·t per element for noisy tokens, with b depending on the prompt; NaN for reference tokens,
    /// so a loop that does not slice the output to [:, :L_img] produces NaN. Records what it was fed.</summary>
    private sealed class FakeModel(int imageTokens) : IVelocityModel
    {
        public List<float[]> ReferenceInputs { get; } = [];
        public List<float> Timesteps { get; } = [];
        public List<float?> Guidances { get; } = [];
        public List<long[]> Ids { get; } = [];
        public int TextFeatures => 8;

        public Tensor Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? firstBlock)
        {
            int c = hiddenStates.Shape[2];
            var h = hiddenStates.AsSpan<float>();
            ReferenceInputs.Add(h[(imageTokens * c)..].ToArray());
            Timesteps.Add(timestep);
            Guidances.Add(guidance);
            Ids.Add(imageIds.ToArray<long>());
            float b = prompt.Embeddings.AsSpan<float>()[0];
            var output = Tensor.Zeros(hiddenStates.Shape);
            var o = output.AsSpan<float>();
            for (int i = 0; i < o.Length; i++) o[i] = i < imageTokens * c ? 0.5f * h[i] + b * timestep : float.NaN;
            return output;
        }
    }

    private static PromptEmbedding Prompt(float value)
    {
        var e = Tensor.Zeros(1, 3, 8);
        e.AsSpan<float>().Fill(value);
        return new PromptEmbedding(e);
    }

    [Fact]
    public void EulerUpdatesOnlyNoisyTokensAndKeepsReferencesBitIdentical()
    {
        const int grid = 2, tokens = grid * grid, c = 4;
        var model = new FakeModel(tokens);
        var schedule = FlowMatchSchedule.Create(3, tokens);
        using var prompt = Prompt(1f);
        var refValues = Enumerable.Range(0, 2 * c).Select(i => i * 0.1f - 0.3f).ToArray();
        using var refs = new ReferenceTokens(Tensor.FromArray(refValues, 1, 2, c), LatentIds.Image(1, 2, 10), [(32, 16)]);
        var start = Enumerable.Range(0, tokens * c).Select(i => (float)Math.Sin(i)).ToArray();
        using var latents = Tensor.FromArray(start, 1, tokens, c);

        var seen = new List<int>();
        DenoisingLoop.Run(new(model, schedule, prompt, null, 1.0, 4f, refs), latents, grid, grid, 0, 1, s => seen.Add(s.Step), default);

        var expected = (float[])start.Clone();
        for (int step = 0; step < 3; step++)
        {
            float t = schedule.ModelTimesteps[step], dt = schedule.EulerDt[step];
            for (int i = 0; i < expected.Length; i++) expected[i] += dt * (0.5f * expected[i] + 1f * t);
        }
        Assert.Equal(expected, latents.ToArray<float>());
        Assert.Equal([1, 2, 3], seen);
        Assert.All(model.ReferenceInputs, r => Assert.Equal(refValues, r));
        Assert.Equal(schedule.ModelTimesteps, model.Timesteps);
        Assert.All(model.Guidances, g => Assert.Equal(4f, g));
        // ids: noisy (0, y, x, 0) first, then the reference's (10, y, x, 0)
        Assert.Equal([0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 1, 0, 10, 0, 0, 0, 10, 0, 1, 0], model.Ids[0]);
    }

    [Fact]
    public void CfgCombinesPositiveAndNegativeInFp32()
    {
        const int tokens = 2, c = 2;
        var model = new FakeModel(tokens);
        var schedule = FlowMatchSchedule.Create(2, tokens);
        using var positive = Prompt(3f);
        using var negative = Prompt(-1f);
        var start = new[] { 0.1f, -0.2f, 0.3f, 0.7f };
        using var latents = Tensor.FromArray(start, 1, tokens, c);

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
        Assert.Equal(expected, latents.ToArray<float>());
        Assert.Equal(4, model.Timesteps.Count); // two forwards per step
        Assert.All(model.Guidances, g => Assert.Null(g));
    }

    [Fact]
    public void CancellationStopsBeforeTheNextStep()
    {
        var model = new FakeModel(1);
        using var prompt = Prompt(1f);
        using var latents = Tensor.Zeros(1, 1, 2);
        using var cts = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => DenoisingLoop.Run(
            new(model, FlowMatchSchedule.Create(4, 1), prompt, null, 1, null, null), latents, 1, 1, 0, 1,
            s => { if (s.Step == 2) cts.Cancel(); }, cts.Token));
        Assert.Equal(2, model.Timesteps.Count);
    }
}
