using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>A parsed <c>POST /v1/responses</c> body: the prompt, its reference images and <c>provider_options.image</c>.
/// Null values take the engine's defaults (see <see cref="ResponsesRequestParser"/>).</summary>
public sealed record ResponsesRequest
{
    public string? Model { get; init; }
    public required string Prompt { get; init; }
    public IReadOnlyList<ReferenceImage> ReferenceImages { get; init; } = [];
    public ulong? Seed { get; init; }
    public int? Width { get; init; }
    public int? Height { get; init; }
    public int? Steps { get; init; }
    public double? Guidance { get; init; }
    public double? TrueCfgScale { get; init; }
    public string? NegativePrompt { get; init; }
    public int NumImages { get; init; } = 1;
}
