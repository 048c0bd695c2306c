using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>A parsed generation request, from <c>POST /v1/responses</c> (see <see cref="ResponsesRequestParser"/>) or the
/// images endpoints (see <see cref="ImagesRequestParser"/>). Null values take the engine's defaults.</summary>
public sealed record ResponsesRequest
{
    public string? Model { get; init; }
    /// <summary>One prompt, or several (images endpoint): <see cref="NumImages"/> images each, prompt after prompt.</summary>
    public required IReadOnlyList<string> Prompts { get; init; }
    /// <summary>LoRAs of the server's LoRA folder to add to those it always applies, for this request.</summary>
    public IReadOnlyList<RequestedLora> Loras { get; init; } = [];
    public IReadOnlyList<ReferenceImage> ReferenceImages { get; init; } = [];
    public ulong? Seed { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? Steps { get; init; }
    public double? Guidance { get; init; }
    public double? TrueCfgScale { get; init; }
    public string? NegativePrompt { get; init; }
    public int NumImages { get; init; } = 1;
    public ImageEncoding Output { get; init; } = ImageEncoding.Png;

    /// <summary>Where the generation options sit in the request, for errors the model finds: <c>provider_options.image.</c>
    /// in a responses body, nothing in an images body.</summary>
    public string OptionsPath { get; init; } = "provider_options.image.";

    /// <summary>The field that holds the reference images, for errors about them.</summary>
    public string ImagesParam { get; init; } = "input";

    /// <summary>The field that sets the image size, for errors about it.</summary>
    public string SizeParam { get; init; } = "provider_options.image";
}
