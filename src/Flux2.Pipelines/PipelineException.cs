using Flux2.Core;

namespace Flux2.Pipelines;

/// <summary>A generation request or a model folder the pipeline cannot use; the message names the option or file.</summary>
/// <param name="requestField">the <see cref="GenerationRequest"/> property at fault, when one is, so that a caller can name
/// its own word for it (a server's request field)</param>
public sealed class PipelineException(string message, string? requestField = null) : Flux2Exception(message)
{
    public string? RequestField { get; } = requestField;
}
