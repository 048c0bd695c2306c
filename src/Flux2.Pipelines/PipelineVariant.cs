using Flux2.Core.Checkpoints;

namespace Flux2.Pipelines;

/// <summary>How a FLUX.2 model samples (spec §1.2): its default step count and what the guidance scale drives.</summary>
public enum PipelineVariant
{
    /// <summary>FLUX.2 [dev]: 50 steps; guidance is embedded into the transformer (one forward per step).</summary>
    Dev,
    /// <summary>FLUX.2 [klein], step-distilled: exactly 4 steps, no guidance.</summary>
    KleinDistilled,
    /// <summary>FLUX.2 [klein] base: 50 steps; true classifier-free guidance with a negative prompt (two forwards per step).</summary>
    KleinBase,
    /// <summary>FLUX.2 [klein] 9B-KV: step-distilled as <see cref="KleinDistilled"/>, and reading reference images through a
    /// cache of their keys and values, computed at the first step (spec §3.11).</summary>
    KleinKv,
}

public static class PipelineVariantExtensions
{
    public const double DefaultGuidance = 4.0;

    /// <summary>The step count a step-distilled model was trained for (distilled klein: 4); null when any count works.</summary>
    public static int? TrainedSteps(this PipelineVariant variant) => variant is PipelineVariant.KleinDistilled or PipelineVariant.KleinKv ? 4 : null;

    public static int DefaultSteps(this PipelineVariant variant) => variant.TrainedSteps() ?? 50;

    public const string DevClassName = "Flux2Pipeline";
    public const string KleinClassName = "Flux2KleinPipeline";
    public const string KleinKvClassName = "Flux2KleinKVPipeline";

    /// <summary>From model_index.json: <c>Flux2Pipeline</c> is dev; <c>Flux2KleinPipeline</c> is distilled when
    /// <c>is_distilled</c> is true, else base (diffusers' default for a missing flag); <c>Flux2KleinKVPipeline</c> is klein
    /// 9B-KV (distilled; its pipeline has no guidance).</summary>
    public static PipelineVariant FromModelIndex(ModelIndex index) => index.ClassName switch
    {
        DevClassName => PipelineVariant.Dev,
        KleinClassName => index.IsDistilled == true ? PipelineVariant.KleinDistilled : PipelineVariant.KleinBase,
        KleinKvClassName => PipelineVariant.KleinKv,
        var other => throw new PipelineException(
            $"{index.Path}: _class_name '{other}' is not a FLUX.2 pipeline ({DevClassName}, {KleinClassName} or {KleinKvClassName})"),
    };

    public static string DisplayName(this PipelineVariant variant) => variant switch
    {
        PipelineVariant.Dev => "dev",
        PipelineVariant.KleinDistilled => "klein (distilled)",
        PipelineVariant.KleinKv => "klein-kv (distilled, reference KV cache)",
        _ => "klein-base",
    };
}
