using System.Text.Json.Nodes;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>The JSON bodies the server answers with: an OpenResponses <c>response</c> object whose single assistant
/// message holds one <c>output_image</c> per image (as MAX: <c>output[0].content[k].image_data</c>), and OpenAI-style errors.</summary>
public static class ResponsesJson
{
    public static JsonObject Response(string id, string model, DateTimeOffset created, GenerationResult result)
    {
        var content = new JsonArray();
        foreach (var image in result.Images)
            content.Add(new JsonObject
            {
                ["type"] = "output_image",
                ["image_data"] = Convert.ToBase64String(PngWriter.Encode(image.Image, [])),
                ["seed"] = image.Seed,
            });
        return new JsonObject
        {
            ["id"] = id,
            ["object"] = "response",
            ["created_at"] = created.ToUnixTimeSeconds(),
            ["status"] = "completed",
            ["model"] = model,
            ["output"] = new JsonArray(new JsonObject
            {
                ["type"] = "message",
                ["id"] = "msg_" + id["resp_".Length..],
                ["status"] = "completed",
                ["role"] = "assistant",
                ["content"] = content,
            }),
        };
    }

    public static JsonObject Error(string message, string? param, int status) => new()
    {
        ["error"] = new JsonObject
        {
            ["message"] = message,
            ["type"] = status switch { 404 => "not_found_error", 503 => "server_busy", >= 500 => "server_error", _ => "invalid_request_error" },
            ["param"] = param,
        },
    };
}
