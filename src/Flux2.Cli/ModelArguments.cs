using Flux2.Hub;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;

namespace Flux2.Cli;

/// <summary>
/// The model of generate and serve: -m/--model, a diffusers folder or a Hugging Face model id (org/name[@revision]) found
/// in the Hugging Face cache and completed from the Hub (a path that exists is always a path); or the components as
/// separate files, as BFL, ComfyUI and stable-diffusion.cpp distribute them: --transformer, --vae and --text-encoder,
/// with --tokenizer (default for a Qwen3 encoder: the built-in Qwen3 tokenizer) and --variant.
/// </summary>
public sealed class ModelArguments
{
    /// <summary>What generate runs without -m.</summary>
    public const string DefaultModel = "black-forest-labs/FLUX.2-klein-4B";

    private readonly string _model;
    private readonly PipelineComponents? _files;

    private ModelArguments(string model, PipelineComponents? files)
    {
        _model = model;
        _files = files;
    }

    /// <summary>The options' lines of --help.</summary>
    /// <param name="modelDefault">what -m's line says about its default ("(required)", "(default ...)")</param>
    public static string Help(string modelDefault) =>
        $"""
          -m, --model MODEL        diffusers model folder, or Hugging Face model id org/name[@revision]
                                   {modelDefault}
              --transformer FILE   instead of -m, the components as single files (BFL, ComfyUI, stable-diffusion.cpp;
                                   bf16, FP8, NVFP4 or GGUF): the transformer, with
              --vae FILE           the VAE (BFL's ae.safetensors or a diffusers vae/ folder) and
              --text-encoder PATH  the text encoder: a single .safetensors or llama.cpp .gguf (its configuration
                                   inferred from the shapes) or a transformers folder; Qwen3-4B for klein 4B,
                                   Qwen3-8B for klein 9B, Mistral-Small-3.x for dev
              --tokenizer DIR      the text encoder's tokenizer folder, or a .gguf that carries one (default: the
                                   one a .gguf text encoder carries, else for Qwen3 the built-in Qwen3 tokenizer;
                                   a Mistral encoder needs one)
                                   each may also be a file or component folder of a Hugging Face repository,
                                   org/name[@revision]/path or its https://huggingface.co/... address, fetched into
                                   the Hugging Face cache
              --variant V          dev, klein, klein-base or klein-kv, when the transformer's file name does
                                   not say (BFL's names do: flux-2-klein-4b, flux-2-klein-base-4b,
                                   flux-2-klein-9b-kv)
        """;

    /// <param name="defaultModel">the model without -m or component files; null makes one of them required</param>
    public static ModelArguments Parse(CommandArgs o, string? defaultModel)
    {
        var model = o.Optional("model");
        string? transformer = o.Optional("transformer"), vae = o.Optional("vae"), textEncoder = o.Optional("text-encoder"),
            tokenizer = o.Optional("tokenizer"), variant = o.Optional("variant");
        if (transformer == null && vae == null && textEncoder == null && tokenizer == null && variant == null)
            return new(model ?? defaultModel ?? throw new CliException("missing required option --model (or --transformer, --vae and --text-encoder)"), null);
        if (model != null) throw new CliException("give either --model or the component files (--transformer, --vae, --text-encoder), not both");
        foreach (var (name, value) in new[] { ("transformer", transformer), ("vae", vae), ("text-encoder", textEncoder) })
            if (value == null) throw new CliException($"missing --{name}: separate component files need --transformer, --vae and --text-encoder");
        var components = new PipelineComponents
        {
            Transformer = transformer!,
            Vae = vae!,
            TextEncoder = textEncoder,
            Tokenizer = tokenizer,
            Variant = variant switch
            {
                null => null,
                "dev" => PipelineVariant.Dev,
                "klein" => PipelineVariant.KleinDistilled,
                "klein-base" => PipelineVariant.KleinBase,
                "klein-kv" => PipelineVariant.KleinKv,
                _ => throw new CliException($"option --variant: '{variant}' is not one of dev, klein, klein-base, klein-kv"),
            },
        };
        return new(transformer!, components);
    }

    /// <summary>The model part of the pipeline's config: a folder as given; component files with the transformer as its name;
    /// a model id as its name (for reports and image metadata) with the components of its snapshot in the cache
    /// (downloaded first when missing).</summary>
    public PipelineConfig Resolve(HubModels hub, string command, TextWriter error, CancellationToken stop)
    {
        if (_files != null)
        {
            string Local(string path) => hub.LocalPath(path, command, error, stop);
            var files = _files with
            {
                Transformer = Local(_files.Transformer),
                Vae = Local(_files.Vae),
                TextEncoder = _files.TextEncoder is { } encoder ? Local(encoder) : null,
                Tokenizer = _files.Tokenizer is { } tokenizer ? Local(tokenizer) : null,
            };
            return new PipelineConfig { ModelPath = _model, Components = files };
        }
        if (HubModels.IdOf(_model) is not { } id) return new PipelineConfig { ModelPath = _model };
        var snapshot = hub.Resolve(id, command, error, stop);
        return new PipelineConfig { ModelPath = id.ToString(), Components = DiffusersFolder.Components(snapshot.Folder) };
    }
}
