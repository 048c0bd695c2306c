using Flux2.Pipelines.Images;

namespace Flux2.Pipelines;

/// <summary>A request checked by <see cref="Flux2Pipeline.Prepare"/>: its plan with every default filled in and its reference
/// images already downscaled and cropped, ready for <see cref="Flux2Pipeline.Generate(PreparedGeneration, CancellationToken)"/>.</summary>
public sealed record PreparedGeneration(GenerationRequest Request, GenerationPlan Plan, IReadOnlyList<RgbImage> References);
