using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;
using Flux2.Models.Checkpoints;
using Flux2.Models.Lora;
using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;
using Flux2.Models.Vae;
using Flux2.Models;
using Flux2.Pipelines.Config;
using Flux2.Pipelines.Images;
using Flux2.Pipelines.Noise;
using Flux2.Pipelines.Scheduling;
using Flux2.Text;

namespace Flux2.Pipelines;

/// <summary>
/// FLUX.2 text-to-image and editing (diffusers <c>Flux2Pipeline</c> / <c>Flux2KleinPipeline</c>): encode the prompt,
/// encode reference images, denoise seeded noise with the flow-matching Euler sampler, decode with the VAE.
/// <see cref="Load"/> is the one way in: a <see cref="PipelineConfig"/> goes through <see cref="Flux2ArchConfig"/> and the
/// transformer's <see cref="Flux2Config"/> to the backend of its device, on which every component then lives (the text
/// encoder may run on another, <see cref="PipelineConfig.TextEncoderDevice"/>).
/// One call at a time; a call may generate several requests together (<see cref="GenerateTogether"/>).
/// </summary>
public sealed class Flux2Pipeline : IDisposable
{
    private readonly PipelineTransformer _transformer;
    private readonly AutoencoderKLFlux2 _vae;
    private readonly PipelineOptions _options;
    /// <summary>The text encoder, and its backend where that is not <see cref="Backend"/> (then owned with it).</summary>
    private PromptEncoder? _promptEncoder;
    private string _noPromptEncoderReason;
    /// <summary>What loading decided that a user should know (where the text encoder went).</summary>
    private readonly IReadOnlyList<string> _loadNotes;

    public PipelineVariant Variant { get; }

    /// <summary>The checked configuration the pipeline was built from.</summary>
    public Flux2ArchConfig Config { get; }

    /// <summary>The backend the transformer and the VAE run on, and the text encoder unless
    /// <see cref="PipelineConfig.TextEncoderDevice"/> names another device (owned by the pipeline). Prompt embeddings, images
    /// and latents the pipeline hands out live here.</summary>
    public IBackend Backend { get; }

    /// <summary>The backend the text encoder runs on: <see cref="Backend"/>, or its own for another device; null once it is
    /// released or when the pipeline has none.</summary>
    public IBackend? TextEncoderBackend => _promptEncoder?.Backend;

    /// <summary>What loading decided on its own (the text encoder moved to <see cref="PipelineOptions.TextEncoderFallbackDevice"/>)
    /// and what loading the transformer found questionable but used anyway (see <see cref="Flux2Transformer.LoadWarnings"/>;
    /// those are missing while a transformer loaded after encoding is not loaded yet, and then go to the generation's notices).</summary>
    public IReadOnlyList<string> LoadWarnings => [.. _loadNotes, .. _transformer.IsLoaded ? _transformer.Model.Transformer.LoadWarnings : []];

    /// <summary>Most images denoised together (<see cref="PipelineOptions.MaxBatch"/>).</summary>
    public int MaxBatch => _options.MaxBatch;

    /// <summary>Where the model came from (folder or transformer file), for reports and image metadata.</summary>
    public string Source => Config.PipelineConfig.ModelPath;

    /// <summary>The LoRAs the transformer runs with now: <see cref="PipelineOptions.Loras"/>, or the last generation's
    /// <see cref="GenerationRequest.Loras"/>.</summary>
    public IReadOnlyList<LoraFile> Loras => _transformer.IsLoaded ? _transformer.Model.Transformer.Loras : _options.Loras;

    private Flux2Pipeline(Flux2ArchConfig config, IBackend backend, PipelineVariant variant, PipelineTransformer transformer, AutoencoderKLFlux2 vae,
        PromptEncoder? promptEncoder, string noPromptEncoderReason, PipelineOptions options, IReadOnlyList<string> loadNotes)
    {
        _loadNotes = loadNotes;
        Config = config;
        Backend = backend;
        Variant = variant;
        _transformer = transformer;
        _vae = vae;
        _promptEncoder = promptEncoder;
        _noPromptEncoderReason = noPromptEncoderReason;
        _options = options;
    }

    /// <summary>
    /// Loads the model <paramref name="config"/> describes: a diffusers folder (model_index.json, transformer/, vae/ and, for
    /// prompts, text_encoder/ and tokenizer/; without those two only precomputed prompt embeddings can be used) or the
    /// separately given <see cref="PipelineConfig.Components"/> (a Qwen3 text encoder without a tokenizer uses the built-in
    /// Qwen3 tokenizer). A text encoder that does not fit the transformer is refused before any weights are loaded. The
    /// backend comes from <paramref name="backends"/> for the model config's first device, and a second one for
    /// <see cref="PipelineConfig.TextEncoderDevice"/> where that is another device.
    /// </summary>
    public static Flux2Pipeline Load(PipelineConfig config, IBackendFactory backends, PipelineOptions? options = null)
    {
        options ??= new PipelineOptions();
        var components = config.Components ?? DiffusersFolder.Components(config.ModelPath);
        if (components.Tokenizer != null && components.TextEncoder == null)
            throw new PipelineException($"a tokenizer ({components.Tokenizer}) without a text encoder is of no use; give the text encoder too");

        var checkpoint = Flux2Transformer.OpenCheckpoint(components.Transformer, out var transformerConfig);
        var owned = new List<IDisposable>();
        var notes = new List<string>();
        IBackend? backend = null, encoderBackend = null;
        try
        {
            var modelConfig = Flux2ConfigInference.Load(checkpoint, transformerConfig, config.QuantizationEncoding, config.Devices);
            if (components.Variant is { } given && (given == PipelineVariant.Dev) != modelConfig.GuidanceEmbeds)
                throw new PipelineException($"{components.Transformer}: a {(modelConfig.GuidanceEmbeds ? "dev" : "klein")} transformer " +
                    $"(it {(modelConfig.GuidanceEmbeds ? "has" : "has no")} guidance embedder) cannot run as {given.DisplayName()}");
            var variant = components.Variant ?? DetectVariant(components.Transformer, modelConfig.GuidanceEmbeds);
            var architecture = variant switch
            {
                PipelineVariant.Dev => Flux2Architectures.Dev,
                PipelineVariant.KleinKv => Flux2Architectures.KleinKv,
                _ => Flux2Architectures.Klein,
            };
            if (config.Architecture != null && config.Architecture != architecture.Name)
                throw new PipelineConfigException($"{config.ModelPath}: the model is a {architecture.Name}, not the {config.Architecture} asked for");
            var archConfig = Flux2ArchConfig.Initialize(config with { Architecture = architecture.Name }, modelConfig);
            if (modelConfig.Devices.Count != 1)
                throw new PipelineConfigException($"{architecture.Name}: this engine runs a pipeline on one device; {modelConfig.Devices.Count} were given " +
                    $"({string.Join(", ", modelConfig.Devices)})");

            TextEncoderConfig? encoderConfig = null;
            var tokenizer = components.TextEncoder == null ? null : TokenizerFor(components, components.TextEncoder, modelConfig, variant, out encoderConfig);

            backend = backends.Create(modelConfig.Devices[0]);
            var transformer = new PipelineTransformer(checkpoint, modelConfig, backend, options);
            owned.Add(transformer);
            if (!options.LoadTransformerAfterEncoding) _ = transformer.Model;
            var vae = AutoencoderKLFlux2.Load(components.Vae, backend);
            owned.Add(vae);
            if (vae.Config.PatchedChannels != modelConfig.InChannels)
                throw new PipelineException($"the VAE ({components.Vae}) makes {vae.Config.PatchedChannels}-channel latent tokens, " +
                    $"but the transformer ({components.Transformer}) takes {modelConfig.InChannels}");
            PromptEncoder? prompts = null;
            string noPrompts = $"{config.ModelPath} has no text encoder; only precomputed prompt embeddings can be used";
            if (components.TextEncoder != null && tokenizer != null)
            {
                var encoderDevice = config.TextEncoderDevice ?? FallbackIfTheEncoderDoesNotFit(backend, encoderConfig!, options, notes);
                if (encoderDevice is { } device && device != backend.Device) encoderBackend = CreateTextEncoderBackend(backends, device);
                prompts = new PromptEncoder(tokenizer, TextEncoder.Open(encoderBackend ?? backend, components.TextEncoder), options.PromptCache,
                    options.PromptCache == null ? "" : PromptEncoder.FilesIdentity(components.TextEncoder), output: backend);
                owned.Add(prompts);
            }
            return new Flux2Pipeline(archConfig, backend, variant, transformer, vae, prompts, noPrompts, options, notes);
        }
        catch
        {
            // The transformer's slot owns the checkpoint once made; before that it is closed here.
            if (owned.Count == 0) checkpoint.Dispose();
            foreach (var d in owned) d.Dispose();
            encoderBackend?.Dispose();
            backend?.Dispose();
            throw;
        }
    }

    /// <summary><see cref="PipelineOptions.TextEncoderFallbackDevice"/>: that device when the pipeline's reports its memory and
    /// the encoder's weights would not leave <see cref="DeviceMemoryFit.ActivationReserve"/> of what it has free now (the
    /// transformer, unless loaded after encoding, and the VAE already in), with a note saying so; else null (the pipeline's).</summary>
    private static DeviceRef? FallbackIfTheEncoderDoesNotFit(IBackend backend, TextEncoderConfig encoder, PipelineOptions options, List<string> notes)
    {
        if (options.TextEncoderFallbackDevice is not { } fallback || backend is not IDeviceMemoryReport report) return null;
        long bytes = DeviceMemoryFit.TextEncoderBytes(encoder, backend.Precision);
        var memory = report.Memory;
        if (DeviceMemoryFit.FitsBeside(bytes, memory)) return null;
        notes.Add($"the text encoder's weights ({DeviceMemoryFit.Gb(bytes)}) do not fit in the {DeviceMemoryFit.Gb(memory.DeviceFree + memory.Cached)} " +
            $"free on {backend.Device} with {DeviceMemoryFit.ActivationReserve >> 30} GiB kept for activations; it runs on {fallback}");
        return fallback;
    }

    private static IBackend CreateTextEncoderBackend(IBackendFactory backends, DeviceRef device)
    {
        try
        {
            return backends.Create(device);
        }
        catch (BackendUnavailableException e)
        {
            throw new BackendUnavailableException($"the text encoder's device: {e.Message}");
        }
    }

    /// <summary>Checks <paramref name="request"/> and does the cheap preparation (reference images decoded, downscaled and
    /// cropped, the plan resolved with every default filled in) without touching a model.</summary>
    /// <exception cref="Flux2Exception">what the request asks is invalid for this model</exception>
    public PreparedGeneration Prepare(GenerationRequest request)
    {
        var references = ReferenceEncoder.Prepare(request.ReferenceImages, request.ReferenceCap);
        var plan = GenerationPlan.Resolve(request, Variant, references.Count > 0 ? (references[0].Width, references[0].Height) : null,
            _options.MaxPixelsPerRequest) with { Loras = request.Loras ?? _options.Loras };
        return new PreparedGeneration(request, plan, references);
    }

    /// <summary>About how much working memory <paramref name="prepared"/> needs besides the weights (see <see cref="GenerationMemory"/>).</summary>
    public long EstimateWorkingBytes(PreparedGeneration prepared) =>
        GenerationMemory.EstimateBytes(_transformer.Config, _vae.Config, prepared.Plan,
            prepared.References.Sum(r => r.Width / 16 * (r.Height / 16)), Backend.ActivationDType.SizeInBytes(),
            Math.Min(BatchSize(prepared), prepared.Plan.Seeds.Count), cachesReferences: Variant == PipelineVariant.KleinKv);

    /// <summary>Generates <see cref="GenerationRequest.NumImages"/> images per prompt, up to <see cref="PipelineOptions.MaxBatch"/>
    /// of them denoised together (default one after another, as MAX does).</summary>
    /// <exception cref="OperationCanceledException">when <paramref name="cancellation"/> fires (checked before every step and
    /// inside the backend's ops, so even one long step stops within about a second)</exception>
    public GenerationResult Generate(GenerationRequest request, CancellationToken cancellation = default) =>
        Generate(Prepare(request), cancellation);

    /// <summary>Runs a request <see cref="Prepare"/> checked.</summary>
    public GenerationResult Generate(PreparedGeneration prepared, CancellationToken cancellation = default)
    {
        var outcome = GenerateTogether([(prepared, cancellation)])[0];
        if (outcome.Error != null) ExceptionDispatchInfo.Throw(outcome.Error);
        return outcome.Result!;
    }

    /// <summary>
    /// Runs several checked requests that can share a batch (<see cref="PreparedGeneration.CanShareBatchWith"/>) together:
    /// each request's prompts are encoded on their own, then the images of all of them are denoised in batches of up to
    /// <see cref="PipelineOptions.MaxBatch"/> and decoded one by one, each reported to its own request's callbacks. A request
    /// whose token fires stops being reported and gets an <see cref="OperationCanceledException"/>; the work stops when every
    /// token has fired. The phase times of every result are those of the whole call.
    /// </summary>
    /// <exception cref="ArgumentException">two requests cannot share a batch</exception>
    /// <exception cref="OperationCanceledException">every request was cancelled</exception>
    /// <exception cref="Flux2Exception">what failed after encoding, for all the requests alike (a LoRA that does not fit)</exception>
    public IReadOnlyList<GenerationOutcome> GenerateTogether(IReadOnlyList<(PreparedGeneration Prepared, CancellationToken Cancellation)> requests)
    {
        ArgumentOutOfRangeException.ThrowIfZero(requests.Count);
        for (int i = 1; i < requests.Count; i++)
            if (!requests[0].Prepared.CanShareBatchWith(requests[i].Prepared))
                throw new ArgumentException($"request {i} cannot share a batch with request 0", nameof(requests));
        var members = requests.Select(r => new BatchMember(r.Prepared, r.Cancellation)).ToArray();
        var plan = members[0].Plan;
        foreach (var m in members)
            foreach (var notice in m.Plan.Notices) m.Notice(notice);

        var clock = Stopwatch.StartNew();
        using var everyone = new AllCancelled([.. requests.Select(r => r.Cancellation)]);
        var cancellation = everyone.Token;
        using var observing = Backend.ObserveCancellation(cancellation);
        try
        {
            foreach (var m in members) Encode(m);
            if (members.All(m => m.Error != null)) return members.Select(m => m.Outcome(new PhaseTimings(clock.Elapsed, default, default, default))).ToArray();
            if (_options.ReleaseTextEncoderAfterUse) ReleaseTextEncoder();
            // Phase times are taken once the backend has finished the phase: a GPU's ops only queue.
            Backend.Synchronize();
            var textTime = clock.Elapsed;
            cancellation.ThrowIfCancellationRequested();
            Action<string> noticeAll = notice => { foreach (var m in members) m.Notice(notice); };
            var model = LoadTransformer(noticeAll);
            UseLoras(model.Transformer, plan.Loras, noticeAll);

            clock.Restart();
            // Only a request alone in its call has references (CanShareBatchWith).
            var first = members[0];
            var references = first.Prepared.References.Count > 0 ? first.Own(ReferenceEncoder.Encode(_vae, first.Prepared.References)) : null;
            Backend.Synchronize();
            var referenceTime = clock.Elapsed;

            var schedule = FlowMatchSchedule.Create(plan.Steps, plan.ImageTokens);
            var slots = members.Where(m => m.Error == null).SelectMany(m => Enumerable.Range(0, m.Plan.Seeds.Count).Select(k => (Member: m, Image: k))).ToArray();
            int batchSize = BatchSize(first.Prepared);
            TimeSpan denoiseTime = TimeSpan.Zero, decodeTime = TimeSpan.Zero;
            for (int start = 0; start < slots.Length; start += batchSize)
            {
                var batch = slots[start..Math.Min(start + batchSize, slots.Length)].Where(s => !s.Member.Cancelled).ToArray();
                if (batch.Length == 0) continue;
                clock.Restart();
                using var latents = Denoise(model, schedule, references, batch, cancellation);
                if (latents == null) continue;
                Backend.Synchronize();
                denoiseTime += clock.Elapsed;

                clock.Restart();
                for (int b = 0; b < batch.Length; b++)
                {
                    var (m, k) = batch[b];
                    if (m.Cancelled) continue;
                    using var row = latents.Slice0(b, 1);
                    using var decoded = _vae.DecodeTokens(row, plan.GridHeight, plan.GridWidth);
                    using var rgb = VaeImages.ToRgb(Backend, decoded);
                    var image = new GeneratedImage(k, m.Plan.PromptIndex(k), new RgbImage(plan.Width, plan.Height, Backend.Download<byte>(rgb)),
                        m.Plan.Seeds[k], Backend.DownloadFloat32(row), Backend.DownloadFloat32(decoded));
                    m.Images.Add(image);
                    m.Request.OnImage?.Invoke(image, m.Plan);
                    cancellation.ThrowIfCancellationRequested();
                }
                decodeTime += clock.Elapsed;
            }
            var timings = new PhaseTimings(textTime, referenceTime, denoiseTime, decodeTime);
            return members.Select(m => m.Outcome(timings)).ToArray();
        }
        finally
        {
            foreach (var m in members) m.Dispose();
        }
    }

    /// <summary>How many images of <paramref name="prepared"/>'s size are denoised together: up to the batch option, one with
    /// a cache, and no more pixels than one request may ask for (which bounds a batch's memory as it bounds a request's).</summary>
    public int BatchSize(PreparedGeneration prepared)
    {
        if (prepared.Request.Cache != null) return 1;
        long pixels = (long)prepared.Plan.Width * prepared.Plan.Height;
        return (int)Math.Clamp(_options.MaxPixelsPerRequest / pixels, 1, _options.MaxBatch);
    }

    /// <summary>Encodes <paramref name="m"/>'s prompts unless it gave their embeddings; a prompt that cannot be encoded fails
    /// that request alone.</summary>
    private void Encode(BatchMember m)
    {
        var request = m.Request;
        try
        {
            m.Positive = request.PromptEmbedding ?? m.Own(EncodePrompts(request.Prompts ?? [request.Prompt!], m.Notice, request.StrictPromptLength));
            if (m.Plan.UseCfg)
                m.Negative = request.NegativePromptEmbedding ?? m.Own(EncodePrompt(request.NegativePrompt ?? "", m.Notice, request.StrictPromptLength));
            CheckFeatures(m.Positive, "prompt");
            if (m.Negative != null) CheckFeatures(m.Negative, "negative prompt");
        }
        catch (Flux2Exception e)
        {
            m.Error = e;
        }
    }

    /// <summary>Denoises the images of <paramref name="batch"/> as one transformer batch; returns their latents [n, L_img, 128],
    /// or null when all the batch's requests were cancelled while others still run.</summary>
    private Tensor? Denoise(TransformerVelocityModel model, FlowMatchSchedule schedule, ReferenceTokens? references,
        (BatchMember Member, int Image)[] batch, CancellationToken everyone)
    {
        var plan = batch[0].Member.Plan;
        var cache = batch[0].Member.Request.Cache;
        using var prompt = BatchPrompt(batch.Select(s => s.Member.Positive!.Select(s.Member.Plan.PromptIndex(s.Image))).ToArray());
        using var negativePrompt = plan.UseCfg
            ? BatchPrompt(batch.Select(s => s.Member.Negative!.Select(s.Member.Negative!.Count == 1 ? 0 : s.Member.Plan.PromptIndex(s.Image))).ToArray())
            : null;
        var inputs = new DenoisingLoop.Inputs(model, schedule, prompt, negativePrompt, plan.Guidance,
            Variant == PipelineVariant.Dev ? (float)plan.Guidance : null, references, cache, CachesReferences: Variant == PipelineVariant.KleinKv);
        var latents = InitialLatents(plan, batch);
        try
        {
            // The batch stops between steps when all its requests are cancelled; inside an op, when every request is.
            using var members = new AllCancelled([.. batch.Select(s => s.Member.Cancellation)]);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(members.Token, everyone);
            int reused = DenoisingLoop.Run(inputs, latents, plan.GridHeight, plan.GridWidth, 0, batch.Length,
                s => batch[s.Image].Member.Report(s with { Image = batch[s.Image].Image, Images = batch[s.Image].Member.Plan.Seeds.Count }),
                linked.Token);
            if (cache != null)
            {
                var (m, k) = batch[0];
                m.Notice((m.Plan.Seeds.Count > 1 ? $"image {k + 1}: " : "") + $"{reused}/{plan.Steps} steps reused the cache");
            }
            return latents;
        }
        catch (OperationCanceledException) when (!everyone.IsCancellationRequested && batch.All(s => s.Member.Cancelled))
        {
            latents.Dispose();
            return null;
        }
        catch
        {
            latents.Dispose();
            throw;
        }
    }

    /// <summary>The prompts of a batch: the one row's own view, or the rows stacked.</summary>
    private PromptEmbedding BatchPrompt(PromptEmbedding[] rows)
    {
        try
        {
            return rows.Length == 1 ? rows[0] : PromptEmbedding.Stack(Backend, rows);
        }
        finally
        {
            if (rows.Length > 1) foreach (var row in rows) row.Dispose();
        }
    }

    /// <summary>Makes the transformer run <paramref name="loras"/>; the LoRAs it runs already cost nothing.</summary>
    /// <exception cref="LoraException">a file does not fit the transformer (the transformer is then left as it was)</exception>
    private void UseLoras(Flux2Transformer transformer, IReadOnlyList<LoraFile> loras, Action<string>? onNotice)
    {
        if (transformer.Loras.SequenceEqual(loras)) return;
        var set = loras.Count == 0 ? null : LoraSet.Load(loras, transformer.Config, transformer.Naming, _options.LenientLoraKeys);
        transformer.UseLoras(set);
        foreach (var warning in set?.Warnings ?? []) onNotice?.Invoke(warning);
    }

    /// <summary>Runs the text encoder on one prompt; <paramref name="strict"/> rejects an over-long prompt instead of truncating it.</summary>
    public PromptEmbedding EncodePrompt(string prompt, Action<string>? onNotice = null, bool strict = false) => EncodePrompts([prompt], onNotice, strict);

    /// <summary>Runs the text encoder on several prompts at once: embeddings of batch <paramref name="prompts"/>.Count.</summary>
    public PromptEmbedding EncodePrompts(IReadOnlyList<string> prompts, Action<string>? onNotice = null, bool strict = false)
    {
        var encoder = _promptEncoder ?? throw new PipelineException(_noPromptEncoderReason);
        return encoder.Encode(prompts, onNotice, strict);
    }

    /// <summary>The transformer, loaded now if the pipeline loads it after encoding and this is the first generation; its load
    /// warnings then go to <paramref name="onNotice"/>.</summary>
    private TransformerVelocityModel LoadTransformer(Action<string>? onNotice)
    {
        if (_transformer.IsLoaded) return _transformer.Model;
        var model = _transformer.Model;
        foreach (var warning in model.Transformer.LoadWarnings) onNotice?.Invoke(warning);
        return model;
    }

    /// <summary>Frees the text encoder's memory; prompts cannot be encoded afterwards.</summary>
    public void ReleaseTextEncoder()
    {
        if (_promptEncoder == null) return;
        DisposeTextEncoder();
        _promptEncoder = null;
        _noPromptEncoderReason = "the text encoder was released after use; only precomputed prompt embeddings can be used";
    }

    private void DisposeTextEncoder()
    {
        if (_promptEncoder == null) return;
        var encoderBackend = _promptEncoder.Backend;
        _promptEncoder.Dispose();
        if (encoderBackend != Backend) encoderBackend.Dispose();
    }

    public void Dispose()
    {
        DisposeTextEncoder();
        _vae.Dispose();
        _transformer.Dispose();
        Backend.Dispose();
    }

    /// <summary>The starting points of <paramref name="batch"/>'s images, packed [n, L_img, 128] on the backend: the injected
    /// noise or the seeded generator's, drawn on the host so that a seed gives the same image on every machine.</summary>
    private Tensor InitialLatents(GenerationPlan plan, (BatchMember Member, int Image)[] batch)
    {
        int perImage = 128 * plan.ImageTokens;
        var values = new float[(long)batch.Length * perImage];
        for (int b = 0; b < batch.Length; b++)
        {
            var (m, k) = batch[b];
            var image = m.Request.InitialLatents is { } injected
                ? injected.AsSpan(k * perImage, perImage)
                : GaussianNoise.Latents(m.Plan.Seeds[k], 128, plan.GridHeight, plan.GridWidth);
            image.CopyTo(values.AsSpan(b * perImage, perImage));
        }
        using var noise = Backend.Upload<float>(values, batch.Length, 128, plan.GridHeight, plan.GridWidth);
        return VaeLatents.Pack(Backend, noise);
    }

    private void CheckFeatures(PromptEmbedding prompt, string what)
    {
        if (prompt.Features != _transformer.Config.JointAttentionDim)
            throw new PipelineException($"{what} embeddings have {prompt.Features} features per token; the transformer expects {_transformer.Config.JointAttentionDim}");
    }

    /// <summary>The tokenizer of the prompts for <paramref name="textEncoder"/>, once the encoder is known to fit the transformer
    /// (checked from its configuration, before any weights are loaded): the given folder, else the one a GGUF encoder carries,
    /// else the built-in Qwen3 tokenizer.</summary>
    private static PromptTokenizer TokenizerFor(PipelineComponents components, string textEncoder, Flux2Config transformer, PipelineVariant variant,
        out TextEncoderConfig encoder)
    {
        (encoder, _, var weightsFile) = TextEncoderFiles.ReadConfig(textEncoder);
        var expected = variant == PipelineVariant.Dev ? TextEncoderArchitecture.Mistral : TextEncoderArchitecture.Qwen3;
        if (TextEncoderFit.Problem(transformer, expected, components.Transformer, encoder, textEncoder) is { } misfit) throw new PipelineException(misfit);
        var template = variant == PipelineVariant.Dev ? PromptTemplate.Dev : PromptTemplate.Klein;
        if (components.Tokenizer != null) return PromptTokenizer.Load(components.Tokenizer, template);
        if (SafeTensorsCheckpoint.IsGguf(weightsFile))
        {
            using var gguf = GgufFile.Open(weightsFile);
            if (gguf.HasTokenizer) return PromptTokenizer.Create(GgufTokenizer.Load(gguf), template, gguf.FilePath, config: null);
        }
        if (encoder.Architecture == TextEncoderArchitecture.Qwen3) return BuiltInTokenizer.Qwen3(template);
        throw new PipelineException($"the {encoder.PublishedName ?? "Mistral"} text encoder {textEncoder} needs its tokenizer folder (tokenizer.json or " +
            "tekken.json, as in the tokenizer/ folder of black-forest-labs/FLUX.2-dev; flux2: --tokenizer DIR), or a GGUF file that carries one; " +
            "only the Qwen3 tokenizer is built in");
    }

    private static PipelineVariant DetectVariant(string transformerPath, bool guidanceEmbeds)
    {
        if (guidanceEmbeds) return PipelineVariant.Dev;
        if (Flux2Variant.ReferenceKvFromFileName(Path.GetFileName(transformerPath))) return PipelineVariant.KleinKv;
        return Flux2Variant.DistilledFromFileName(Path.GetFileName(transformerPath)) switch
        {
            true => PipelineVariant.KleinDistilled,
            false => PipelineVariant.KleinBase,
            null => throw new PipelineException(
                $"{transformerPath}: a klein transformer, but the files do not say whether it is distilled or base; give the variant explicitly (flux2: --variant klein or klein-base)"),
        };
    }
}
