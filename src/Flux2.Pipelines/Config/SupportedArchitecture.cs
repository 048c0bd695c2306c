using Flux2.Models.Checkpoints;

namespace Flux2.Pipelines.Config;

/// <summary>One registered pipeline architecture (MAX's <c>SupportedArchitecture</c>), selected by the
/// <c>_class_name</c> of model_index.json.</summary>
/// <param name="Models">the published transformers this pipeline runs</param>
public sealed record SupportedArchitecture(
    string Name,
    IReadOnlyList<Flux2Model> Models,
    string Task,
    IReadOnlyList<string> Inputs,
    string WeightsFormat,
    string Tokenizer,
    string DefaultEncoding,
    IReadOnlySet<string> SupportedEncodings,
    IReadOnlyList<string> ExampleRepoIds,
    bool SupportsMultipleDevices);

/// <summary>The FLUX.2 architectures (spec §2.4): dev (<c>Flux2Pipeline</c>), klein (<c>Flux2KleinPipeline</c>) and klein
/// 9B-KV (<c>Flux2KleinKVPipeline</c>).</summary>
public static class Flux2Architectures
{
    public const string PixelGeneration = "pixel generation";

    /// <summary>FLUX.2 [dev]; MAX allows tensor parallelism over several devices.</summary>
    public static SupportedArchitecture Dev { get; } = new(
        "Flux2Pipeline", [Flux2Model.Dev], PixelGeneration, ["text", "image"], "safetensors", "Flux2Tokenizer",
        Flux2ArchConfig.DefaultEncoding, Flux2ArchConfig.SupportedEncodings, ["black-forest-labs/FLUX.2-dev"], SupportsMultipleDevices: true);

    /// <summary>FLUX.2 [klein] 4B / 9B, distilled or base; MAX's klein executor runs on one device.</summary>
    public static SupportedArchitecture Klein { get; } = new(
        "Flux2KleinPipeline", [Flux2Model.Klein4B, Flux2Model.Klein9B], PixelGeneration, ["text", "image"], "safetensors", "Flux2Tokenizer",
        Flux2ArchConfig.DefaultEncoding, Flux2ArchConfig.SupportedEncodings,
        ["black-forest-labs/FLUX.2-klein-4B", "black-forest-labs/FLUX.2-klein-9B"], SupportsMultipleDevices: false);

    /// <summary>FLUX.2 [klein] 9B-KV (diffusers' <c>Flux2KleinKVPipeline</c>): klein 9B that reads reference images through a
    /// cache of their keys and values (spec §3.11). Not in MAX's registry, which predates it.</summary>
    public static SupportedArchitecture KleinKv { get; } = new(
        "Flux2KleinKVPipeline", [Flux2Model.Klein9B], PixelGeneration, ["text", "image"], "safetensors", "Flux2Tokenizer",
        Flux2ArchConfig.DefaultEncoding, Flux2ArchConfig.SupportedEncodings, ["black-forest-labs/FLUX.2-klein-9b-kv"], SupportsMultipleDevices: false);

    public static IReadOnlyList<SupportedArchitecture> All { get; } = [Dev, Klein, KleinKv];

    public static SupportedArchitecture? Find(string name) => All.FirstOrDefault(a => a.Name == name);

    /// <summary>The architecture that runs a published transformer.</summary>
    public static SupportedArchitecture For(Flux2Model model) => All.First(a => a.Models.Contains(model));

    public static SupportedArchitecture Get(string name) =>
        Find(name) ?? throw new PipelineConfigException(
            $"unknown architecture '{name}' (registered: {string.Join(", ", All.Select(a => a.Name))})");
}
