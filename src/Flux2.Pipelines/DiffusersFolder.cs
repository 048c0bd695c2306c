using Flux2.Core.Checkpoints;
using Flux2.Models.Checkpoints;

namespace Flux2.Pipelines;

/// <summary>A diffusers FLUX.2 repository on disk: model_index.json with the pipeline class, transformer/ and vae/ and, for
/// prompts, text_encoder/ and tokenizer/.</summary>
public static class DiffusersFolder
{
    /// <summary>The components of the repository at <paramref name="modelFolder"/>, with its variant from model_index.json.</summary>
    public static PipelineComponents Components(string modelFolder)
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
        return new PipelineComponents
        {
            Transformer = Folder("transformer"),
            Vae = Folder("vae"),
            TextEncoder = hasTextEncoder ? Folder("text_encoder") : null,
            Tokenizer = hasTokenizer ? Folder("tokenizer") : null,
            Variant = variant,
        };
    }

    /// <summary>The scheduler config is not used (FLUX.2 computes its shift from the image size) but must describe the same sampler.</summary>
    private static void CheckScheduler(string modelFolder)
    {
        var path = Path.Combine(modelFolder, "scheduler", "scheduler_config.json");
        if (!File.Exists(path)) return;
        using var doc = JsonText.ReadFile(path, (problem, _) => new PipelineException($"{path}: {problem}"));
        if (SchedulerConfigRules.Problem(doc.RootElement) is { } problem) throw new PipelineException($"{path}: {problem}");
    }
}
