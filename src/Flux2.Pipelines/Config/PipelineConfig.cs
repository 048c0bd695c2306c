using Flux2.Core;

namespace Flux2.Pipelines.Config;

/// <summary>
/// The part of MAX's <c>PipelineConfig</c> that FLUX.2 reads: where the model is, which architecture it is,
/// the weight encoding and the devices to run on. Every front end builds one and hands it to
/// <see cref="Flux2Pipeline.Load"/>, which goes through <see cref="Flux2ArchConfig.Initialize"/> and the model's
/// <see cref="Models.Flux2Config"/> to the backend of its first device.
/// </summary>
public sealed record PipelineConfig
{
    /// <summary>The checkpoint: a diffusers repository folder; with <see cref="Components"/>, the name reports and image
    /// metadata give the model.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Separately given component files (a BFL transformer file, ae.safetensors, ...); null when
    /// <see cref="ModelPath"/> is a diffusers repository.</summary>
    public PipelineComponents? Components { get; init; }

    /// <summary>The registered architecture name, as <c>_class_name</c> in model_index.json; null takes the model's own
    /// (from model_index.json, else dev when the transformer has a guidance embedder and klein otherwise).</summary>
    public string? Architecture { get; init; }

    /// <summary>MAX's <c>quantization_encoding</c>; null selects the architecture's default.</summary>
    public string? QuantizationEncoding { get; init; }

    public IReadOnlyList<DeviceRef> Devices { get; init; } = [DeviceRef.Cpu()];

    /// <summary>Where the text encoder runs; null: on the pipeline's device. Another device keeps the encoder's weights off the
    /// transformer's (a GPU too small for both runs the encoder on the CPU); its prompt embeddings cross to the pipeline's
    /// device once per prompt.</summary>
    public DeviceRef? TextEncoderDevice { get; init; }
}
