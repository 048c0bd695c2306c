using System.Net;
using System.Text.Json;
using Flux2.Pipelines.Images;

namespace Flux2.Server.Tests;

/// <summary>A klein-kv server started with a step cache: it says at start that edits cannot run, and refuses one with a 400
/// that says why, while text-to-image runs with the cache.</summary>
public sealed class KleinKvServerTests(KleinKvCacheServer server) : IClassFixture<KleinKvCacheServer>
{
    [Fact]
    public async Task EditsAreRefusedAndSaidSoAtStart()
    {
        Assert.Contains(server.Log.Lines, l => l.Contains("warning: klein-kv runs no step cache with reference images: with --cache, edits are refused (400)"));

        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(PngWriter.Encode(ServerClient.Gradient(64, 64), [])), "image", "cat.png" },
            { new StringContent("a cat in the snow"), "prompt" },
            { new StringContent("32x32"), "size" },
        };
        using var edit = await server.Client.PostAsync("v1/images/edits", form);
        var body = JsonDocument.Parse(await edit.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, edit.StatusCode);
        Assert.Contains("does not run with reference images on this model", body.GetProperty("error").GetProperty("message").GetString());

        using var generation = await server.Client.PostAsync("v1/images/generations",
            new StringContent("""{"prompt": "a cat", "size": "32x32"}""", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, generation.StatusCode);
    }
}
