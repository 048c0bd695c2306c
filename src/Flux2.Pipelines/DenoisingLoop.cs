using System.Diagnostics;
using Flux2.Core;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Scheduling;

namespace Flux2.Pipelines;

/// <summary>
/// The flow-matching Euler sampler (spec §9.5–9.6). Each step feeds [noisy tokens, reference tokens] to the model,
/// keeps only the first L_img outputs, applies classifier-free guidance v = v_neg + s·(v_pos − v_neg) when asked,
/// and updates only the noisy tokens: x ← x + (σ[i+1] − σ[i])·v, all in fp32. Reference tokens go back in unchanged
/// every step. An optional cache (spec §10) may replace a stream's model pass by a reused or extrapolated velocity.
/// </summary>
public static class DenoisingLoop
{
    /// <summary>Everything one image's sampling needs besides its latents.</summary>
    public sealed record Inputs(
        IVelocityModel Model,
        FlowMatchSchedule Schedule,
        PromptEmbedding Prompt,
        PromptEmbedding? NegativePrompt,
        double CfgScale,
        float? EmbeddedGuidance,
        ReferenceTokens? References,
        CacheOptions? Cache = null);

    /// <param name="latents">[1, L_img, 128] initial noise, replaced in place by the final latents</param>
    /// <param name="gridHeight">latent grid (H/16) of the noisy tokens</param>
    /// <returns>the steps whose velocity came from the cache for every guidance stream (0 without a cache)</returns>
    public static int Run(Inputs inputs, Tensor latents, int gridHeight, int gridWidth, int image, int images,
        Action<DenoiseStep>? onStep, CancellationToken cancellation)
    {
        if (latents.Rank != 3 || latents.Shape[0] != 1 || latents.Shape[1] != gridHeight * gridWidth)
            throw new ArgumentException($"latents {latents.ShapeText} do not match the {gridHeight}x{gridWidth} grid", nameof(latents));
        int imageTokens = latents.Shape[1];
        int channels = latents.Shape[2];
        int referenceTokens = inputs.References?.Tokens.Shape[1] ?? 0;
        int totalTokens = imageTokens + referenceTokens;

        using var hidden = Tensor.Zeros(1, totalTokens, channels);
        using var ids = Tensor.Zeros(DType.Int64, totalTokens, 4);
        LatentIds.Image(gridHeight, gridWidth, 0).CopyTo(ids.AsSpan<long>());
        if (inputs.References is { } refs)
        {
            refs.Tokens.AsSpan<float>().CopyTo(hidden.AsSpan<float>()[(imageTokens * channels)..]);
            refs.Ids.CopyTo(ids.AsSpan<long>()[(imageTokens * 4)..]);
        }
        using var velocity = Tensor.Zeros(1, imageTokens, channels);
        int n = imageTokens * channels;
        var negativePrompt = inputs.NegativePrompt;
        using var negativeVelocity = negativePrompt != null ? Tensor.Zeros(1, imageTokens, channels) : null;
        // CFG streams keep separate cache states (spec §10): they are different functions of the same latents.
        var positiveCache = inputs.Cache?.CreateStreamCache(imageTokens, n);
        var negativeCache = negativePrompt != null ? inputs.Cache?.CreateStreamCache(imageTokens, n) : null;
        var x = latents.AsSpan<float>();
        var v = velocity.AsSpan<float>();
        int reusedSteps = 0;
        var clock = Stopwatch.StartNew();
        var schedule = inputs.Schedule;
        for (int step = 0; step < schedule.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            x.CopyTo(hidden.AsSpan<float>());
            float t = schedule.ModelTimesteps[step];
            bool reused = StreamVelocity(positiveCache, step, new ModelCall(inputs.Model, hidden, ids, inputs.Prompt, t, inputs.EmbeddedGuidance), v);
            if (negativePrompt != null)
            {
                var vNeg = negativeVelocity!.AsSpan<float>();
                reused &= StreamVelocity(negativeCache, step, new ModelCall(inputs.Model, hidden, ids, negativePrompt, t, inputs.EmbeddedGuidance), vNeg);
                ApplyCfg(vNeg, v, (float)inputs.CfgScale);
            }
            if (reused) reusedSteps++;
            float dt = schedule.EulerDt[step];
            for (int i = 0; i < n; i++) x[i] += dt * v[i];
            onStep?.Invoke(new DenoiseStep(image, images, step + 1, schedule.Steps, clock.Elapsed, velocity, latents));
        }
        return reusedSteps;
    }

    /// <summary>One guidance stream's velocity: through its cache when there is one, else a full model pass.</summary>
    /// <returns>true when it came from the cache</returns>
    private static bool StreamVelocity(IVelocityCache? cache, int step, in ModelCall call, Span<float> velocity)
    {
        if (cache != null) return cache.Predict(step, call, velocity);
        call.Predict(velocity);
        return false;
    }

    /// <summary>v ← v_neg + s·(v_pos − v_neg), with <paramref name="velocity"/> holding v_pos on entry.</summary>
    public static void ApplyCfg(ReadOnlySpan<float> negative, Span<float> velocity, float scale)
    {
        for (int i = 0; i < velocity.Length; i++) velocity[i] = negative[i] + scale * (velocity[i] - negative[i]);
    }
}
