using Flux2.Core;

namespace Flux2.Models;

/// <summary>A transformer configuration (config.json, or one inferred from a checkpoint) is inconsistent.</summary>
public sealed class Flux2ConfigException(string message) : Flux2Exception(message);
