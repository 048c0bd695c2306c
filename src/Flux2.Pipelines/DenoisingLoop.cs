using System.Diagnostics;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Scheduling;

namespace Flux2.Pipelines;

/// <summary>
/// The flow-matching Euler sampler (spec §9.5–9.6). Each step feeds [noisy tokens, reference tokens] to the model,
/// keeps only the first L_img outputs, applies classifier-free guidance v = v_neg + s·(v_pos − v_neg) when asked,
/// and updates only the noisy tokens: x ← x + (σ[i+1] − σ[i])·v, all in fp32 on the model's backend. Reference tokens go
/// back in unchanged every step. An optional cache (spec §10) may replace a stream's model pass by a reused or
/// extrapolated velocity. Only the timestep crosses to the backend per step. Several images of the same size, steps and
/// references run as one batch: row b of the latents with row b of the prompt embeddings. klein 9B-KV (spec §3.11) runs
/// its reference tokens at the first step only, first in the sequence, and reads their keys and values after that.
/// </summary>
public static class DenoisingLoop
{
    /// <summary>Everything the sampling of a batch of images needs besides their latents; the prompts hold one row per image.</summary>
    public sealed record Inputs(
        IVelocityModel Model,
        FlowMatchSchedule Schedule,
        PromptEmbedding Prompt,
        PromptEmbedding? NegativePrompt,
        double CfgScale,
        float? EmbeddedGuidance,
        ReferenceTokens? References,
        CacheOptions? Cache = null,
        bool CachesReferences = false);

    /// <param name="latents">Float32 [B, L_img, 128] on the model's backend: the initial noise of B images, replaced in place by
    /// the final latents</param>
    /// <param name="gridHeight">latent grid (H/16) of the noisy tokens</param>
    /// <param name="firstImage">the index of batch row 0 among the <paramref name="images"/> of the generation (for progress)</param>
    /// <returns>the steps whose velocity came from the cache for every guidance stream (0 without a cache)</returns>
    public static int Run(Inputs inputs, Tensor latents, int gridHeight, int gridWidth, int firstImage, int images,
        Action<DenoiseStep>? onStep, CancellationToken cancellation)
    {
        if (latents.Rank != 3 || latents.Shape[0] < 1 || latents.Shape[1] != gridHeight * gridWidth)
            throw new ArgumentException($"latents {latents.ShapeText} do not match the {gridHeight}x{gridWidth} grid", nameof(latents));
        int batch = latents.Shape[0];
        if (inputs.Prompt.Count != batch || inputs.NegativePrompt is { } n && n.Count != batch)
            throw new ArgumentException($"{batch} images need {batch} prompt rows, got {inputs.Prompt.Count} and {inputs.NegativePrompt?.Count ?? batch} negative",
                nameof(inputs));
        // First-Block-Cache decides from the residual of the whole batch: images sharing a batch would share their decisions.
        if (inputs.Cache != null && batch > 1)
            throw new ArgumentException($"a cache runs one image at a time, got a batch of {batch}", nameof(inputs));
        if (inputs.CachesReferences && inputs.References is { } cachedReferences)
        {
            if (inputs.NegativePrompt != null || inputs.Cache != null)
                throw new ArgumentException("klein 9B-KV's reference cache runs without classifier-free guidance and without a step cache", nameof(inputs));
            RunCachingReferences(inputs, cachedReferences, latents, gridHeight, gridWidth, firstImage, images, onStep, cancellation);
            return 0;
        }
        var backend = inputs.Model.Backend;
        int imageTokens = latents.Shape[1];
        int channels = latents.Shape[2];
        int referenceTokens = inputs.References?.Tokens.Shape[1] ?? 0;
        int totalTokens = imageTokens + referenceTokens;

        using var hidden = backend.Allocate(DType.Float32, batch, totalTokens, channels);
        var ids = LatentIds.Image(gridHeight, gridWidth, 0);
        if (inputs.References is { } refs)
        {
            for (int b = 0; b < batch; b++) backend.Copy(refs.Tokens, hidden.SliceRows(b, imageTokens, referenceTokens));
            ids = [.. ids, .. refs.Ids];
        }
        using var imageIds = backend.Upload<long>(ids, totalTokens, 4);
        using var positive = new GuidanceStream(inputs.Model, hidden, imageIds, inputs.Prompt, inputs.EmbeddedGuidance, inputs.Cache, imageTokens, channels);
        using var negative = inputs.NegativePrompt is { } negativePrompt
            ? new GuidanceStream(inputs.Model, hidden, imageIds, negativePrompt, inputs.EmbeddedGuidance, inputs.Cache, imageTokens, channels)
            : null;
        int reusedSteps = 0;
        var clock = Stopwatch.StartNew();
        var schedule = inputs.Schedule;
        for (int step = 0; step < schedule.Steps; step++)
        {
            cancellation.ThrowIfCancellationRequested();
            CopyLeadingTokens(backend, latents, hidden);
            float t = schedule.ModelTimesteps[step];
            bool reused = positive.Velocity(step, t);
            if (negative != null)
            {
                // CFG streams keep separate cache states (spec §10): they are different functions of the same latents.
                reused &= negative.Velocity(step, t);
                backend.GuidanceCombine(positive.Output, negative.Output, (float)inputs.CfgScale);
            }
            if (reused) reusedSteps++;
            backend.EulerStep(latents, positive.Output, schedule.EulerDt[step]);
            Report(onStep, firstImage, images, step, schedule.Steps, clock, backend, positive.Output, latents);
        }
        return reusedSteps;
    }

    /// <summary>klein 9B-KV with reference images: step 0 runs [reference, noisy] tokens and keeps the references' keys and
    /// values; the later steps run the noisy tokens alone against them.</summary>
    private static void RunCachingReferences(Inputs inputs, ReferenceTokens references, Tensor latents, int gridHeight, int gridWidth, int firstImage,
        int images, Action<DenoiseStep>? onStep, CancellationToken cancellation)
    {
        var backend = inputs.Model.Backend;
        int batch = latents.Shape[0], imageTokens = latents.Shape[1], channels = latents.Shape[2];
        int referenceTokens = references.Tokens.Shape[1];
        using var first = backend.Allocate(DType.Float32, batch, referenceTokens + imageTokens, channels);
        for (int b = 0; b < batch; b++)
        {
            backend.Copy(references.Tokens, first.SliceRows(b, 0, referenceTokens));
            backend.Copy(latents.SliceRows(b, 0, imageTokens), first.SliceRows(b, referenceTokens, imageTokens));
        }
        var noisyIds = LatentIds.Image(gridHeight, gridWidth, 0);
        using var firstIds = backend.Upload<long>([.. references.Ids, .. noisyIds], referenceTokens + imageTokens, 4);
        using var imageIds = backend.Upload<long>(noisyIds, imageTokens, 4);
        using var velocity = backend.Allocate(DType.Float32, batch, imageTokens, channels);
        ReferenceKvCache? cache = null;
        try
        {
            var clock = Stopwatch.StartNew();
            var schedule = inputs.Schedule;
            for (int step = 0; step < schedule.Steps; step++)
            {
                cancellation.ThrowIfCancellationRequested();
                float t = schedule.ModelTimesteps[step];
                if (cache == null) cache = inputs.Model.PredictExtractingReferences(first, referenceTokens, firstIds, inputs.Prompt, t, velocity);
                else inputs.Model.PredictWithReferences(latents, cache, imageIds, inputs.Prompt, t, velocity);
                backend.EulerStep(latents, velocity, schedule.EulerDt[step]);
                Report(onStep, firstImage, images, step, schedule.Steps, clock, backend, velocity, latents);
            }
        }
        finally
        {
            cache?.Dispose();
        }
    }

    private static void Report(Action<DenoiseStep>? onStep, int firstImage, int images, int step, int steps, Stopwatch clock, IBackend backend,
        Tensor velocity, Tensor latents)
    {
        int batch = latents.Shape[0];
        for (int b = 0; b < batch && onStep != null; b++)
            onStep(new DenoiseStep(firstImage + b, images, step + 1, steps, clock.Elapsed, backend, velocity.Slice0(b, 1), latents.Slice0(b, 1), batch));
    }

    /// <summary>The first min(L, L') tokens of every batch row of <paramref name="source"/> [B, L, C] into those of
    /// <paramref name="destination"/> [B, L', C]: the noisy tokens into the model's input, its output's back out.</summary>
    internal static void CopyLeadingTokens(IBackend backend, Tensor source, Tensor destination)
    {
        int rows = Math.Min(source.Shape[1], destination.Shape[1]);
        if (source.Shape[1] == destination.Shape[1])
        {
            backend.Copy(source, destination);
            return;
        }
        for (int b = 0; b < source.Shape[0]; b++) backend.Copy(source.SliceRows(b, 0, rows), destination.SliceRows(b, 0, rows));
    }

    /// <summary>One guidance stream: its prompt, its velocity buffer and its cache state, shown to the cache as the
    /// stream's model at the current step.</summary>
    private sealed class GuidanceStream : IVelocitySource, IDisposable
    {
        private readonly IVelocityModel _model;
        private readonly Tensor _hidden, _imageIds;
        private readonly PromptEmbedding _prompt;
        private readonly float? _guidance;
        private readonly IVelocityCache? _cache;
        private float _timestep;

        public GuidanceStream(IVelocityModel model, Tensor hidden, Tensor imageIds, PromptEmbedding prompt, float? guidance, CacheOptions? cache,
            int imageTokens, int channels)
        {
            _model = model;
            _hidden = hidden;
            _imageIds = imageIds;
            _prompt = prompt;
            _guidance = guidance;
            Output = model.Backend.Allocate(DType.Float32, hidden.Shape[0], imageTokens, channels);
            _cache = cache?.CreateStreamCache(model.Backend, imageTokens, channels);
        }

        /// <summary>The stream's velocity of the current step, [B, L_img, channels].</summary>
        public Tensor Output { get; }

        public IBackend Backend => _model.Backend;

        /// <returns>true when the velocity came from the cache</returns>
        public bool Velocity(int step, float timestep)
        {
            _timestep = timestep;
            if (_cache != null) return _cache.Predict(step, this, Output);
            Predict(Output);
            return false;
        }

        public void Predict(Tensor velocity)
        {
            if (!_model.Predict(_hidden, _imageIds, _prompt, _timestep, _guidance, null, velocity))
                throw new InvalidOperationException("the velocity model skipped a pass without a First-Block-Cache hook");
        }

        public bool TryPredict(Tensor velocity, IFirstBlockHook firstBlock) =>
            _model.Predict(_hidden, _imageIds, _prompt, _timestep, _guidance, firstBlock, velocity);

        public void Dispose()
        {
            _cache?.Dispose();
            Output.Dispose();
        }
    }
}
