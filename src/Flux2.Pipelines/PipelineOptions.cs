namespace Flux2.Pipelines;

/// <summary>How a pipeline runs.</summary>
public sealed record PipelineOptions
{
    /// <summary>Free the text encoder after the first prompt is encoded (saves its memory during denoising for one-shot use).</summary>
    public bool ReleaseTextEncoderAfterUse { get; init; }
}
