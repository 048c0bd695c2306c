using System.Text.Json.Nodes;
using Flux2.Pipelines;

namespace Flux2.Server;

/// <summary>The JSON bodies the server answers with: an OpenResponses <c>response</c> object whose single assistant
/// message holds one <c>output_image</c> per image (as MAX: <c>output[0].content[k].image_data</c>), and OpenAI-style errors.</summary>
public static class ResponsesJson
{
    /// <param name="encoded">the images of <paramref name="result"/>, encoded as the request asked</param>
    public static JsonObject Response(string id, string model, DateTimeOffset created, GenerationResult result, IReadOnlyList<byte[]> encoded)
    {
        var content = new JsonArray();
        for (int i = 0; i < encoded.Count; i++)
            content.Add(new JsonObject
            {
                ["type"] = "output_image",
                ["image_data"] = Convert.ToBase64String(encoded[i]),
                ["seed"] = result.Images[i].Seed,
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
            ["type"] = status switch
            {
                401 => "authentication_error",
                404 => "not_found_error",
                503 => "server_busy",
                504 => "timeout_error",
                >= 500 => "server_error",
                _ => "invalid_request_error",
            },
            ["param"] = param,
        },
    };
}
