using Flux2.Core.Checkpoints;
using Flux2.Models.TextEncoders;
using Flux2.Models.Vae;

namespace Flux2.Models.Checkpoints;

/// <summary>What one component of a checkpoint is and whether it is usable.</summary>
/// <param name="ClassName">the class model_index.json or the component's config declares (null: none declared)</param>
/// <param name="Naming">the tensor naming the weights use (null: no weights)</param>
/// <param name="Vae">the VAE configuration (from config.json or inferred from the shapes), for a VAE</param>
/// <param name="TextEncoder">the text encoder's configuration, when its config.json is there</param>
/// <param name="Validation">how the weights compare with the tensors the component's configuration requires (null when
/// there are no weights to compare, or no configuration to compare them with)</param>
/// <param name="Details">facts worth showing, in display order (configuration values, tokenizer files, ...)</param>
/// <param name="Problems">what makes the component unusable; any problem makes the checkpoint incomplete</param>
public sealed record ComponentInspection(
    CheckpointComponent Files,
    ComponentKind Kind,
    string? ClassName,
    string? Naming,
    int ShardCount,
    TensorStats? Tensors,
    TransformerInspection? Transformer,
    VaeConfig? Vae,
    TextEncoderConfig? TextEncoder,
    ValidationReport? Validation,
    IReadOnlyList<KeyValuePair<string, string>> Details,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Warnings)
{
    public string Name => Files.Name;

    public bool IsComplete => Problems.Count == 0 && (Transformer?.Problems.Count ?? 0) == 0 && Validation?.IsComplete != false;
}

/// <summary>The whole report: the layout found, the FLUX.2 variant, and every component.</summary>
/// <param name="PipelineClass">model_index.json's <c>_class_name</c> (null outside a diffusers repository)</param>
/// <param name="Variant">null when the checkpoint holds no transformer</param>
public sealed record CheckpointInspection(
    CheckpointSource Source,
    string? PipelineClass,
    Flux2Variant? Variant,
    IReadOnlyList<ComponentInspection> Components,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Warnings)
{
    public bool IsComplete => Problems.Count == 0 && Components.All(c => c.IsComplete);

    public TransformerInspection? Transformer => Components.Select(c => c.Transformer).FirstOrDefault(t => t != null);
}
