using System.Text.Json.Nodes;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>The bodies of OpenAI's images API: the response (<c>created</c>, <c>data[k].b64_json</c>, <c>output_format</c>,
/// <c>size</c>, ...) and, when streaming, the per-step <c>progress</c> events (ours) and one <c>*.completed</c> event per
/// image as OpenAI sends it. Each image also carries its <c>seed</c> and the <c>prompt_index</c> of its prompt in a list of
/// prompts (0 for a single prompt), which OpenAI clients ignore.</summary>
public static class ImagesJson
{
    /// <param name="encoded">the images of <paramref name="result"/>, encoded as <paramref name="output"/> says</param>
    public static JsonObject Response(DateTimeOffset created, GenerationResult result, IReadOnlyList<byte[]> encoded, ImageEncoding output)
    {
        var data = new JsonArray();
        for (int i = 0; i < encoded.Count; i++)
            data.Add(new JsonObject
            {
                ["b64_json"] = Convert.ToBase64String(encoded[i]),
                ["seed"] = result.Images[i].Seed,
                ["prompt_index"] = result.Images[i].PromptIndex,
            });
        return new JsonObject
        {
            ["created"] = created.ToUnixTimeSeconds(),
            ["data"] = data,
            ["background"] = "opaque",
            ["output_format"] = output.Name,
            ["size"] = Size(result.Plan),
        };
    }

    /// <param name="image">0-based index of the image being denoised, of <paramref name="images"/></param>
    /// <param name="step">1-based step just done, of <paramref name="total"/> per image</param>
    public static JsonObject Progress(int image, int images, int step, int total) => new()
    {
        ["type"] = "progress",
        ["image"] = image,
        ["images"] = images,
        ["step"] = step,
        ["total"] = total,
    };

    /// <param name="type">image_generation.completed or image_edit.completed</param>
    public static JsonObject Completed(string type, DateTimeOffset created, GenerationResult result, int index, byte[] encoded, ImageEncoding output) => new()
    {
        ["type"] = type,
        ["b64_json"] = Convert.ToBase64String(encoded),
        ["created_at"] = created.ToUnixTimeSeconds(),
        ["background"] = "opaque",
        ["output_format"] = output.Name,
        ["size"] = Size(result.Plan),
        ["seed"] = result.Images[index].Seed,
        ["prompt_index"] = result.Images[index].PromptIndex,
    };

    private static string Size(GenerationPlan plan) => $"{plan.Width}x{plan.Height}";
}
