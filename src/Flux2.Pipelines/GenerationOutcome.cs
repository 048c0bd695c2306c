namespace Flux2.Pipelines;

/// <summary>What became of one request of <see cref="Flux2Pipeline.GenerateTogether"/>: its result, or why it has none (its
/// prompt could not be encoded, or it was cancelled: an <see cref="OperationCanceledException"/> of its own token).</summary>
public sealed record GenerationOutcome(GenerationResult? Result, Exception? Error);
