using Flux2.Pipelines.Images;

namespace Flux2.Pipelines;

/// <summary>A request checked by <see cref="Flux2Pipeline.Prepare"/>: its plan with every default filled in and its reference
/// images already downscaled and cropped, ready for <see cref="Flux2Pipeline.Generate(PreparedGeneration, CancellationToken)"/>.</summary>
public sealed record PreparedGeneration(GenerationRequest Request, GenerationPlan Plan, IReadOnlyList<RgbImage> References)
{
    /// <summary>Whether this request's images can be denoised in one transformer batch with <paramref name="other"/>'s: the same
    /// size, steps, guidance and LoRAs, and neither has reference images, precomputed embeddings (their text ids may differ)
    /// or a cache (First-Block-Cache decides per batch).</summary>
    public bool CanShareBatchWith(PreparedGeneration other) =>
        Plan.Width == other.Plan.Width && Plan.Height == other.Plan.Height && Plan.Steps == other.Plan.Steps
        && Plan.Guidance == other.Plan.Guidance && Plan.UseCfg == other.Plan.UseCfg && Plan.Loras.SequenceEqual(other.Plan.Loras)
        && Alone(this) && Alone(other);

    private static bool Alone(PreparedGeneration p) =>
        p.References.Count == 0 && p.Request.Cache == null && p.Request.PromptEmbedding == null && p.Request.NegativePromptEmbedding == null;
}
