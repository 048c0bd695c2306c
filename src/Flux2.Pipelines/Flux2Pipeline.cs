using System.Diagnostics;
using Flux2.Core;
using Flux2.Core.Backend;
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
/// transformer's <see cref="Flux2Config"/> to the backend of its device, on which every component then lives.
/// One generation at a time.
/// </summary>
public sealed class Flux2Pipeline : IDisposable
{
    private readonly PipelineTransformer _transformer;
    private readonly AutoencoderKLFlux2 _vae;
    private readonly PipelineOptions _options;
    private PromptEncoder? _promptEncoder;
    private string _noPromptEncoderReason;

    public PipelineVariant Variant { get; }

    /// <summary>The checked configuration the pipeline was built from.</summary>
    public Flux2ArchConfig Config { get; }

    /// <summary>The backend every component runs on (owned by the pipeline).</summary>
    public IBackend Backend { get; }

    /// <summary>What loading the transformer found questionable but used anyway (see <see cref="Flux2Transformer.LoadWarnings"/>);
    /// empty while a transformer loaded after encoding is not loaded yet (its warnings then go to the generation's notices).</summary>
    public IReadOnlyList<string> LoadWarnings => _transformer.IsLoaded ? _transformer.Model.Transformer.LoadWarnings : [];

    /// <summary>Where the model came from (folder or transformer file), for reports and image metadata.</summary>
    public string Source => Config.PipelineConfig.ModelPath;

    /// <summary>The LoRAs the transformer runs with now: <see cref="PipelineOptions.Loras"/>, or the last generation's
    /// <see cref="GenerationRequest.Loras"/>.</summary>
    public IReadOnlyList<LoraFile> Loras => _transformer.IsLoaded ? _transformer.Model.Transformer.Loras : _options.Loras;

    private Flux2Pipeline(Flux2ArchConfig config, IBackend backend, PipelineVariant variant, PipelineTransformer transformer, AutoencoderKLFlux2 vae,
        PromptEncoder? promptEncoder, string noPromptEncoderReason, PipelineOptions options)
    {
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
    /// backend comes from <paramref name="backends"/> for the model config's first device.
    /// </summary>
    public static Flux2Pipeline Load(PipelineConfig config, IBackendFactory backends, PipelineOptions? options = null)
    {
        options ??= new PipelineOptions();
        var components = config.Components ?? DiffusersFolder.Components(config.ModelPath);
        if (components.Tokenizer != null && components.TextEncoder == null)
            throw new PipelineException($"a tokenizer ({components.Tokenizer}) without a text encoder is of no use; give the text encoder too");

        var checkpoint = Flux2Transformer.OpenCheckpoint(components.Transformer, out var transformerConfig);
        var owned = new List<IDisposable>();
        IBackend? backend = null;
        try
        {
            var modelConfig = Flux2ConfigInference.Load(checkpoint, transformerConfig, config.QuantizationEncoding, config.Devices);
            if (components.Variant is { } given && (given == PipelineVariant.Dev) != modelConfig.GuidanceEmbeds)
                throw new PipelineException($"{components.Transformer}: a {(modelConfig.GuidanceEmbeds ? "dev" : "klein")} transformer " +
                    $"(it {(modelConfig.GuidanceEmbeds ? "has" : "has no")} guidance embedder) cannot run as {given.DisplayName()}");
            var variant = components.Variant ?? DetectVariant(components.Transformer, modelConfig.GuidanceEmbeds);
            var architecture = variant == PipelineVariant.Dev ? Flux2Architectures.Dev : Flux2Architectures.Klein;
            if (config.Architecture != null && config.Architecture != architecture.Name)
                throw new PipelineConfigException($"{config.ModelPath}: the model is a {architecture.Name}, not the {config.Architecture} asked for");
            var archConfig = Flux2ArchConfig.Initialize(config with { Architecture = architecture.Name }, modelConfig);
            if (modelConfig.Devices.Count != 1)
                throw new PipelineConfigException($"{architecture.Name}: this engine runs a pipeline on one device; {modelConfig.Devices.Count} were given " +
                    $"({string.Join(", ", modelConfig.Devices)})");

            var tokenizer = components.TextEncoder == null ? null : TokenizerFor(components, components.TextEncoder, modelConfig, variant);

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
                prompts = new PromptEncoder(tokenizer, TextEncoder.Open(backend, components.TextEncoder), options.PromptCache,
                    options.PromptCache == null ? "" : PromptEncoder.FilesIdentity(components.TextEncoder));
                owned.Add(prompts);
            }
            return new Flux2Pipeline(archConfig, backend, variant, transformer, vae, prompts, noPrompts, options);
        }
        catch
        {
            // The transformer's slot owns the checkpoint once made; before that it is closed here.
            if (owned.Count == 0) checkpoint.Dispose();
            foreach (var d in owned) d.Dispose();
            backend?.Dispose();
            throw;
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
            prepared.References.Sum(r => r.Width / 16 * (r.Height / 16)), Backend.ActivationDType.SizeInBytes());

    /// <summary>Generates <see cref="GenerationRequest.NumImages"/> images per prompt, one after another (batch 1, as MAX does).</summary>
    /// <exception cref="OperationCanceledException">when <paramref name="cancellation"/> fires (checked before every step and
    /// inside the backend's ops, so even one long step stops within about a second)</exception>
    public GenerationResult Generate(GenerationRequest request, CancellationToken cancellation = default) =>
        Generate(Prepare(request), cancellation);

    /// <summary>Runs a request <see cref="Prepare"/> checked.</summary>
    public GenerationResult Generate(PreparedGeneration prepared, CancellationToken cancellation = default)
    {
        var (request, plan) = (prepared.Request, prepared.Plan);
        foreach (var notice in plan.Notices) request.OnNotice?.Invoke(notice);

        var clock = Stopwatch.StartNew();
        var created = new List<IDisposable>();
        using var observing = Backend.ObserveCancellation(cancellation);
        try
        {
            var positive = request.PromptEmbedding ?? Own(created, EncodePrompts(request.Prompts ?? [request.Prompt!], request.OnNotice, request.StrictPromptLength));
            PromptEmbedding? negative = null;
            if (plan.UseCfg)
                negative = request.NegativePromptEmbedding ?? Own(created, EncodePrompt(request.NegativePrompt ?? "", request.OnNotice, request.StrictPromptLength));
            CheckFeatures(positive, "prompt");
            if (negative != null) CheckFeatures(negative, "negative prompt");
            if (_options.ReleaseTextEncoderAfterUse) ReleaseTextEncoder();
            // Phase times are taken once the backend has finished the phase: a GPU's ops only queue.
            Backend.Synchronize();
            var textTime = clock.Elapsed;
            cancellation.ThrowIfCancellationRequested();
            var model = LoadTransformer(request.OnNotice);
            UseLoras(model.Transformer, plan.Loras, request.OnNotice);

            clock.Restart();
            var references = prepared.References.Count > 0 ? Own(created, ReferenceEncoder.Encode(_vae, prepared.References)) : null;
            Backend.Synchronize();
            var referenceTime = clock.Elapsed;

            var schedule = FlowMatchSchedule.Create(plan.Steps, plan.ImageTokens);
            var images = new List<GeneratedImage>();
            TimeSpan denoiseTime = TimeSpan.Zero, decodeTime = TimeSpan.Zero;
            for (int k = 0; k < plan.Seeds.Count; k++)
            {
                clock.Restart();
                int p = plan.PromptIndex(k);
                using var prompt = positive.Select(p);
                using var negativePrompt = negative?.Select(negative.Count == 1 ? 0 : p);
                var inputs = new DenoisingLoop.Inputs(model, schedule, prompt, negativePrompt, plan.Guidance,
                    Variant == PipelineVariant.Dev ? (float)plan.Guidance : null, references, request.Cache);
                using var latents = InitialLatents(request, plan, k);
                int reused = DenoisingLoop.Run(inputs, latents, plan.GridHeight, plan.GridWidth, k, plan.Seeds.Count, request.OnStep, cancellation);
                Backend.Synchronize();
                denoiseTime += clock.Elapsed;
                if (request.Cache != null)
                    request.OnNotice?.Invoke((plan.Seeds.Count > 1 ? $"image {k + 1}: " : "") + $"{reused}/{plan.Steps} steps reused the cache");

                clock.Restart();
                using var decoded = _vae.DecodeTokens(latents, plan.GridHeight, plan.GridWidth);
                using var rgb = VaeImages.ToRgb(Backend, decoded);
                var image = new GeneratedImage(k, p, new RgbImage(plan.Width, plan.Height, Backend.Download<byte>(rgb)), plan.Seeds[k],
                    Backend.DownloadFloat32(latents), Backend.DownloadFloat32(decoded));
                images.Add(image);
                decodeTime += clock.Elapsed;
                request.OnImage?.Invoke(image, plan);
                cancellation.ThrowIfCancellationRequested();
            }
            return new GenerationResult(images, plan, new PhaseTimings(textTime, referenceTime, denoiseTime, decodeTime));
        }
        finally
        {
            foreach (var d in created) d.Dispose();
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
        _promptEncoder.Dispose();
        _promptEncoder = null;
        _noPromptEncoderReason = "the text encoder was released after use; only precomputed prompt embeddings can be used";
    }

    public void Dispose()
    {
        _promptEncoder?.Dispose();
        _vae.Dispose();
        _transformer.Dispose();
        Backend.Dispose();
    }

    /// <summary>Image k's starting point, packed [1, L_img, 128] on the backend: the injected noise or the seeded generator's,
    /// drawn on the host so that a seed gives the same image on every machine.</summary>
    private Tensor InitialLatents(GenerationRequest request, GenerationPlan plan, int k)
    {
        int perImage = 128 * plan.ImageTokens;
        var values = request.InitialLatents is { } injected
            ? injected.AsSpan(k * perImage, perImage)
            : GaussianNoise.Latents(plan.Seeds[k], 128, plan.GridHeight, plan.GridWidth);
        using var noise = Backend.Upload(values, 1, 128, plan.GridHeight, plan.GridWidth);
        return VaeLatents.Pack(Backend, noise);
    }

    private void CheckFeatures(PromptEmbedding prompt, string what)
    {
        if (prompt.Features != _transformer.Config.JointAttentionDim)
            throw new PipelineException($"{what} embeddings have {prompt.Features} features per token; the transformer expects {_transformer.Config.JointAttentionDim}");
    }

    private static T Own<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    /// <summary>The tokenizer of the prompts for <paramref name="textEncoder"/>, once the encoder is known to fit the transformer
    /// (checked from its configuration, before any weights are loaded): the given folder, else the built-in Qwen3 tokenizer.</summary>
    private static PromptTokenizer TokenizerFor(PipelineComponents components, string textEncoder, Flux2Config transformer, PipelineVariant variant)
    {
        var encoder = TextEncoderFiles.ReadConfig(textEncoder).Config;
        var expected = variant == PipelineVariant.Dev ? TextEncoderArchitecture.Mistral : TextEncoderArchitecture.Qwen3;
        if (TextEncoderFit.Problem(transformer, expected, components.Transformer, encoder, textEncoder) is { } misfit) throw new PipelineException(misfit);
        var template = variant == PipelineVariant.Dev ? PromptTemplate.Dev : PromptTemplate.Klein;
        if (components.Tokenizer != null) return PromptTokenizer.Load(components.Tokenizer, template);
        if (encoder.Architecture == TextEncoderArchitecture.Qwen3) return BuiltInTokenizer.Qwen3(template);
        throw new PipelineException($"the {encoder.PublishedName ?? "Mistral"} text encoder {textEncoder} needs its tokenizer folder (tokenizer.json or " +
            "tekken.json, as in the tokenizer/ folder of black-forest-labs/FLUX.2-dev; flux2: --tokenizer DIR); only the Qwen3 tokenizer is built in");
    }

    private static PipelineVariant DetectVariant(string transformerPath, bool guidanceEmbeds)
    {
        if (guidanceEmbeds) return PipelineVariant.Dev;
        return Flux2Variant.DistilledFromFileName(Path.GetFileName(transformerPath)) switch
        {
            true => PipelineVariant.KleinDistilled,
            false => PipelineVariant.KleinBase,
            null => throw new PipelineException(
                $"{transformerPath}: a klein transformer, but the files do not say whether it is distilled or base; give the variant explicitly (flux2: --variant klein or klein-base)"),
        };
    }
}
