using System.Diagnostics;
using System.Text.Json;
using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Cpu;
using Flux2.Models.Checkpoints;
using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;
using Flux2.Models.Vae;
using Flux2.Pipelines.Images;
using Flux2.Pipelines.Noise;
using Flux2.Pipelines.Scheduling;
using Flux2.Text;

namespace Flux2.Pipelines;

/// <summary>
/// FLUX.2 text-to-image and editing (diffusers <c>Flux2Pipeline</c> / <c>Flux2KleinPipeline</c>): encode the prompt,
/// encode reference images, denoise seeded noise with the flow-matching Euler sampler, decode with the VAE.
/// Load a diffusers folder with <see cref="Load"/> or separate files with <see cref="Assemble"/>. One generation at a time.
/// </summary>
public sealed class Flux2Pipeline : IDisposable
{
    private readonly TransformerVelocityModel _model;
    private readonly AutoencoderKLFlux2 _vae;
    private readonly PipelineOptions _options;
    private PromptEncoder? _promptEncoder;
    private string _noPromptEncoderReason;

    public PipelineVariant Variant { get; }

    /// <summary>What loading the transformer found questionable but used anyway (see <see cref="Flux2Transformer.LoadWarnings"/>).</summary>
    public IReadOnlyList<string> LoadWarnings => _model.Transformer.LoadWarnings;

    /// <summary>Where the model came from (folder or transformer file), for reports and image metadata.</summary>
    public string Source { get; }

    private Flux2Pipeline(string source, PipelineVariant variant, TransformerVelocityModel model, AutoencoderKLFlux2 vae,
        PromptEncoder? promptEncoder, string noPromptEncoderReason, PipelineOptions options)
    {
        Source = source;
        Variant = variant;
        _model = model;
        _vae = vae;
        _promptEncoder = promptEncoder;
        _noPromptEncoderReason = noPromptEncoderReason;
        _options = options;
    }

    /// <summary>Loads a diffusers model folder: model_index.json, transformer/, vae/ and, for prompts, text_encoder/ and
    /// tokenizer/ (without those two only precomputed prompt embeddings can be used).</summary>
    public static Flux2Pipeline Load(string modelFolder, PipelineOptions? options = null)
    {
        if (File.Exists(modelFolder))
            throw new PipelineException($"{modelFolder}: is a file; expected a diffusers model folder (model_index.json, transformer/, vae/, ...)");
        if (!Directory.Exists(modelFolder)) throw new PipelineException($"model folder not found: {modelFolder}");
        var indexPath = Path.Combine(modelFolder, ModelIndex.FileName);
        if (!File.Exists(indexPath)) throw new PipelineException($"{modelFolder}: not a diffusers model folder ({ModelIndex.FileName} is missing)");
        var variant = PipelineVariantExtensions.FromModelIndex(ModelIndex.Read(indexPath));
        CheckScheduler(modelFolder);
        string Folder(string name) => Path.Combine(modelFolder, name);
        foreach (var required in (string[])["transformer", "vae"])
            if (!Directory.Exists(Folder(required))) throw new PipelineException($"{modelFolder}: the {required}/ folder is missing");
        bool hasTextEncoder = Directory.Exists(Folder("text_encoder")), hasTokenizer = Directory.Exists(Folder("tokenizer"));
        if (hasTextEncoder != hasTokenizer)
            throw new PipelineException($"{modelFolder}: the {(hasTextEncoder ? "tokenizer" : "text_encoder")}/ folder is missing (prompts need both)");
        return Assemble(new PipelineComponents
        {
            Transformer = Folder("transformer"),
            Vae = Folder("vae"),
            TextEncoder = hasTextEncoder ? Folder("text_encoder") : null,
            Tokenizer = hasTokenizer ? Folder("tokenizer") : null,
            Variant = variant,
        }, options, source: modelFolder);
    }

    /// <summary>Builds a pipeline from separately given components.</summary>
    public static Flux2Pipeline Assemble(PipelineComponents components, PipelineOptions? options = null) =>
        Assemble(components, options, source: components.Transformer);

    private static Flux2Pipeline Assemble(PipelineComponents components, PipelineOptions? options, string source)
    {
        options ??= new PipelineOptions();
        var backend = options.Backend ?? new CpuBackend();
        if ((components.TextEncoder == null) != (components.Tokenizer == null))
            throw new PipelineException("a text encoder needs a tokenizer and vice versa; give both or neither");
        var owned = new List<IDisposable>();
        try
        {
            var model = new TransformerVelocityModel(Flux2Transformer.Load(components.Transformer, backend));
            owned.Add(model);
            var config = model.Transformer.Config;
            var variant = components.Variant ?? DetectVariant(components.Transformer, config.GuidanceEmbeds);
            var vae = AutoencoderKLFlux2.Load(components.Vae, backend);
            owned.Add(vae);
            if (vae.Config.PatchedChannels != config.InChannels)
                throw new PipelineException($"the VAE ({components.Vae}) makes {vae.Config.PatchedChannels}-channel latent tokens, " +
                    $"but the transformer ({components.Transformer}) takes {config.InChannels}");
            PromptEncoder? prompts = null;
            string noPrompts = $"{source} has no text encoder and tokenizer; only precomputed prompt embeddings can be used";
            if (components.TextEncoder != null && components.Tokenizer != null)
            {
                var template = variant == PipelineVariant.Dev ? PromptTemplate.Dev : PromptTemplate.Klein;
                var tokenizer = PromptTokenizer.Load(components.Tokenizer, template);
                prompts = new PromptEncoder(tokenizer, TextEncoder.Open(backend, components.TextEncoder));
                owned.Add(prompts);
                if (prompts.Features != config.JointAttentionDim)
                    throw new PipelineException($"the text encoder ({components.TextEncoder}) gives {prompts.Features} features per token " +
                        $"({prompts.Encoder.HiddenStateLayers.Count} layers × {prompts.Encoder.Config.HiddenSize}), but the transformer " +
                        $"({components.Transformer}) expects joint_attention_dim {config.JointAttentionDim}");
            }
            return new Flux2Pipeline(source, variant, model, vae, prompts, noPrompts, options);
        }
        catch
        {
            foreach (var d in owned) d.Dispose();
            throw;
        }
    }

    /// <summary>Generates <see cref="GenerationRequest.NumImages"/> images, one after another (batch 1, as MAX does).</summary>
    /// <exception cref="OperationCanceledException">when <paramref name="cancellation"/> fires (checked before every step)</exception>
    public GenerationResult Generate(GenerationRequest request, CancellationToken cancellation = default)
    {
        var prepared = ReferenceEncoder.Prepare(request.ReferenceImages, request.ReferenceCap);
        var plan = GenerationPlan.Resolve(request, Variant, prepared.Count > 0 ? (prepared[0].Width, prepared[0].Height) : null);
        foreach (var notice in plan.Notices) request.OnNotice?.Invoke(notice);

        var clock = Stopwatch.StartNew();
        var created = new List<IDisposable>();
        try
        {
            var positive = request.PromptEmbedding ?? Own(created, EncodePrompt(request.Prompt!, request.OnNotice, request.StrictPromptLength));
            PromptEmbedding? negative = null;
            if (plan.UseCfg)
                negative = request.NegativePromptEmbedding ?? Own(created, EncodePrompt(request.NegativePrompt ?? "", request.OnNotice, request.StrictPromptLength));
            CheckFeatures(positive, "prompt");
            if (negative != null) CheckFeatures(negative, "negative prompt");
            if (_options.ReleaseTextEncoderAfterUse) ReleaseTextEncoder();
            var textTime = clock.Elapsed;
            cancellation.ThrowIfCancellationRequested();

            clock.Restart();
            var references = prepared.Count > 0 ? Own(created, ReferenceEncoder.Encode(_vae, prepared)) : null;
            var referenceTime = clock.Elapsed;

            var schedule = FlowMatchSchedule.Create(plan.Steps, plan.ImageTokens);
            var inputs = new DenoisingLoop.Inputs(_model, schedule, positive, negative, plan.Guidance,
                Variant == PipelineVariant.Dev ? (float)plan.Guidance : null, references, request.Cache);
            var images = new List<GeneratedImage>();
            TimeSpan denoiseTime = TimeSpan.Zero, decodeTime = TimeSpan.Zero;
            for (int k = 0; k < plan.Seeds.Count; k++)
            {
                clock.Restart();
                using var latents = InitialLatents(request, plan, k);
                int reused = DenoisingLoop.Run(inputs, latents, plan.GridHeight, plan.GridWidth, k, plan.Seeds.Count, request.OnStep, cancellation);
                denoiseTime += clock.Elapsed;
                if (request.Cache != null)
                    request.OnNotice?.Invoke((plan.Seeds.Count > 1 ? $"image {k + 1}: " : "") + $"{reused}/{plan.Steps} steps reused the cache");

                clock.Restart();
                using var decoded = _vae.DecodeTokens(latents, plan.GridHeight, plan.GridWidth);
                using var rgb = VaeImages.ToRgb(decoded);
                var image = new GeneratedImage(k, new RgbImage(plan.Width, plan.Height, rgb.ToArray<byte>()), plan.Seeds[k],
                    latents.ToArray<float>(), decoded.ToArray<float>());
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

    /// <summary>Runs the text encoder on one prompt; <paramref name="strict"/> rejects an over-long prompt instead of truncating it.</summary>
    public PromptEmbedding EncodePrompt(string prompt, Action<string>? onNotice = null, bool strict = false)
    {
        var encoder = _promptEncoder ?? throw new PipelineException(_noPromptEncoderReason);
        return encoder.Encode(prompt, onNotice, strict);
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
        _model.Dispose();
    }

    /// <summary>Image k's starting point, packed [1, L_img, 128]: the injected noise or the seeded generator's.</summary>
    private static Tensor InitialLatents(GenerationRequest request, GenerationPlan plan, int k)
    {
        int perImage = 128 * plan.ImageTokens;
        using var noise = request.InitialLatents is { } injected
            ? Tensor.FromArray(injected.AsSpan(k * perImage, perImage), 1, 128, plan.GridHeight, plan.GridWidth)
            : Tensor.FromArray(GaussianNoise.Latents(plan.Seeds[k], 128, plan.GridHeight, plan.GridWidth), 1, 128, plan.GridHeight, plan.GridWidth);
        return VaeLatents.Pack(noise);
    }

    private void CheckFeatures(PromptEmbedding prompt, string what)
    {
        if (prompt.Features != _model.TextFeatures)
            throw new PipelineException($"{what} embeddings have {prompt.Features} features per token; the transformer expects {_model.TextFeatures}");
    }

    private static T Own<T>(List<IDisposable> owned, T item) where T : IDisposable
    {
        owned.Add(item);
        return item;
    }

    private static PipelineVariant DetectVariant(string transformerPath, bool guidanceEmbeds)
    {
        if (guidanceEmbeds) return PipelineVariant.Dev;
        return Flux2Variant.DistilledFromFileName(Path.GetFileName(transformerPath)) switch
        {
            true => PipelineVariant.KleinDistilled,
            false => PipelineVariant.KleinBase,
            null => throw new PipelineException(
                $"{transformerPath}: a klein transformer, but the files do not say whether it is distilled or base; give the variant explicitly"),
        };
    }

    /// <summary>The scheduler config is not used (FLUX.2 computes its shift from the image size) but must describe the same sampler.</summary>
    private static void CheckScheduler(string modelFolder)
    {
        var path = Path.Combine(modelFolder, "scheduler", "scheduler_config.json");
        if (!File.Exists(path)) return;
        try
        {
            using var doc = JsonText.Parse(File.ReadAllBytes(path));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new PipelineException($"{path}: not a JSON object");
            if (root.TryGetProperty("_class_name", out var cls) && cls.ValueKind == JsonValueKind.String && cls.GetString() != "FlowMatchEulerDiscreteScheduler")
                throw new PipelineException($"{path}: scheduler '{cls.GetString()}' is not FlowMatchEulerDiscreteScheduler, the one FLUX.2 uses");
            if (root.TryGetProperty("use_dynamic_shifting", out var dynamic) && dynamic.ValueKind == JsonValueKind.False)
                throw new PipelineException($"{path}: use_dynamic_shifting is false; FLUX.2 shifts its schedule by the image size");
        }
        catch (JsonException e)
        {
            throw new PipelineException($"{path}: not valid JSON ({e.Message})");
        }
    }
}
