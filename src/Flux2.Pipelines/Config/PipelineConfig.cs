using Flux2.Core;

namespace Flux2.Pipelines.Config;

/// <summary>
/// The part of MAX's <c>PipelineConfig</c> that FLUX.2 reads: where the model is, which architecture it is,
/// the weight encoding and the devices to run on.
/// </summary>
public sealed record PipelineConfig
{
    /// <summary>The checkpoint: a diffusers repository folder, a component folder or a single file.</summary>
    public required string ModelPath { get; init; }

    /// <summary>The registered architecture name, as <c>_class_name</c> in model_index.json.</summary>
    public string Architecture { get; init; } = Flux2Architectures.Dev.Name;

    /// <summary>MAX's <c>quantization_encoding</c>; null selects the architecture's default.</summary>
    public string? QuantizationEncoding { get; init; }

    public IReadOnlyList<DeviceRef> Devices { get; init; } = [DeviceRef.Cpu()];
}
