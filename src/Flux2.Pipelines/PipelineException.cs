using Flux2.Core;

namespace Flux2.Pipelines;

/// <summary>A generation request or a model folder the pipeline cannot use; the message names the option or file.</summary>
public sealed class PipelineException(string message) : Flux2Exception(message);
