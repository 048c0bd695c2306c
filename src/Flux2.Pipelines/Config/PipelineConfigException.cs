using Flux2.Core;

namespace Flux2.Pipelines.Config;

/// <summary>A pipeline configuration asks for something the architecture does not support
/// (an unknown architecture or encoding, several devices for klein, ...).</summary>
public sealed class PipelineConfigException(string message) : Flux2Exception(message);
