using System.Net;
using Flux2.Pipelines.Images;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary><c>stream: true</c>: progress after every step, then the images, as server-sent events; a request refused
/// before it starts is still answered with its status code.</summary>
public sealed class StreamingTests(DistilledServer server) : IClassFixture<DistilledServer>
{
    [Fact]
    public async Task AGenerationStreamsEveryStepThenItsImagesInOrder()
    {
        var (status, type, events, text) = await EventStream.ReadAsync(server.Client, Json("v1/images/generations",
            """{"prompt": "a red fox", "n": 2, "size": "32x32", "seed": 5, "stream": true, "output_format": "jpeg"}"""));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/event-stream", type);
        var names = events.Select(e => e.Name).ToArray();
        Assert.True(names.SequenceEqual([.. Enumerable.Repeat("progress", 8), "image_generation.completed", "image_generation.completed"]), text);
        var progress = events.Take(8).Select(e => (e.Data.GetProperty("image").GetInt32(), e.Data.GetProperty("step").GetInt32(),
            e.Data.GetProperty("total").GetInt32(), e.Data.GetProperty("images").GetInt32()));
        Assert.Equal([(0, 1, 4, 2), (0, 2, 4, 2), (0, 3, 4, 2), (0, 4, 4, 2), (1, 1, 4, 2), (1, 2, 4, 2), (1, 3, 4, 2), (1, 4, 4, 2)], progress);
        foreach (var (completed, seed) in events.Skip(8).Zip(new ulong[] { 5, 6 }))
        {
            Assert.Equal("image_generation.completed", completed.Data.GetProperty("type").GetString());
            Assert.Equal(("jpeg", "32x32", seed), (completed.Data.GetProperty("output_format").GetString(),
                completed.Data.GetProperty("size").GetString(), completed.Data.GetProperty("seed").GetUInt64()));
            var jpeg = Convert.FromBase64String(completed.Data.GetProperty("b64_json").GetString()!);
            Assert.Equal("jpeg", ImageFormats.Of(jpeg));
            Assert.Equal(32, ImageFileReader.Decode(jpeg, "event").Height);
        }
    }

    [Fact]
    public async Task AnEditStreamsImageEditEvents()
    {
        var (status, _, events, text) = await EventStream.ReadAsync(server.Client, Multipart("v1/images/edits",
        [
            Part.File("image", "a.png", "image/png", PngWriter.Encode(ServerClient.Gradient(64, 64), [])),
            Part.Text("prompt", "make it blue"),
            Part.Text("stream", "true"),
        ]));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["progress", "progress", "progress", "progress", "image_edit.completed"], events.Select(e => e.Name));
        Assert.Equal("png", ImageFormats.Of(Convert.FromBase64String(events[^1].Data.GetProperty("b64_json").GetString()!)));
    }

    [Fact]
    public async Task ARequestRefusedBeforeItStartsKeepsItsStatusCode()
    {
        var (status, type, _, text) = await EventStream.ReadAsync(server.Client, Json("v1/images/generations",
            """{"prompt": "x", "stream": true, "size": "8x8"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/json", type);
        Assert.Contains("\"param\":\"size\"", text);
    }
}
