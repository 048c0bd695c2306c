using System.Net;
using System.Text;
using System.Text.Json;
using Flux2.Pipelines.Images;

namespace Flux2.Server.Tests;

/// <summary>Request helpers shared by the server tests.</summary>
public static class ServerClient
{
    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(HttpClient client, string json, CancellationToken cancellation = default)
    {
        using var response = await client.PostAsync("v1/responses", new StringContent(json, Encoding.UTF8, "application/json"), cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>The PNG bytes of every output_image, in order.</summary>
    public static IReadOnlyList<(byte[] Png, ulong Seed)> Images(JsonElement response) =>
        response.GetProperty("output")[0].GetProperty("content").EnumerateArray()
            .Select(c => (Convert.FromBase64String(c.GetProperty("image_data").GetString()!), c.GetProperty("seed").GetUInt64()))
            .ToArray();

    public static string DataUri(RgbImage image) => "data:image/png;base64," + Convert.ToBase64String(PngWriter.Encode(image, []));

    /// <summary>A smooth colour gradient, so the reference is a plausible image.</summary>
    public static RgbImage Gradient(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                int i = (y * width + x) * 3;
                pixels[i] = (byte)(255 * x / (width - 1));
                pixels[i + 1] = (byte)(255 * y / (height - 1));
                pixels[i + 2] = 128;
            }
        return new RgbImage(width, height, pixels);
    }
}
