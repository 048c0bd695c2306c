using System.Net;
using System.Text.Json;
using Flux2.Core.Backend;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Pipelines.Images;
using Flux2.Testing;
using static Flux2.Server.Tests.ServerClient;

namespace Flux2.Server.Tests;

/// <summary>POST /v1/responses, /health and /v1/models against the distilled tiny klein model, over real HTTP on loopback.</summary>
public sealed class ResponsesEndpointTests(DistilledServer server) : IClassFixture<DistilledServer>
{
    private HttpClient Client => server.Client;

    /// <summary>What the library gives for the same request, PNG-encoded as the server does: with the metadata
    /// <c>flux2 generate</c> writes, references named as the server names them.</summary>
    private byte[] LibraryPng(GenerationRequest request, params string[] referenceNames) => LibraryPng(server.Folder, request, referenceNames);

    public static byte[] LibraryPng(string modelFolder, GenerationRequest request, params string[] referenceNames) =>
        LibraryPngs(modelFolder, request, referenceNames)[0];

    /// <summary>Every image of <paramref name="request"/>, as <see cref="LibraryPng(string, GenerationRequest, string[])"/>.</summary>
    public static byte[][] LibraryPngs(string modelFolder, GenerationRequest request, params string[] referenceNames)
    {
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = modelFolder }, TestBackends.Factory(TestBackends.Cpu));
        var result = pipeline.Generate(request);
        return result.Images.Select(image => PngWriter.Encode(image.Image, GenerationMetadata.Entries(pipeline, result.Plan,
            request.Prompts?[image.PromptIndex] ?? request.Prompt!, request.NegativePrompt, image.Seed, referenceNames))).ToArray();
    }

    [Fact]
    public async Task TextToImageReturnsThePngTheLibraryMakes()
    {
        var (status, body) = await PostAsync(Client, """
            {"model": "FLUX.2-klein-tiny", "input": "a red fox", "seed": 42,
             "provider_options": {"image": {"width": 64, "height": 48, "output_format": "png", "guidance_scale": 3.5}}}
            """);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal("response", body.GetProperty("object").GetString());
        Assert.Equal("completed", body.GetProperty("status").GetString());
        Assert.Equal("FLUX.2-klein-tiny", body.GetProperty("model").GetString());
        Assert.StartsWith("resp_", body.GetProperty("id").GetString());
        Assert.Equal("assistant", body.GetProperty("output")[0].GetProperty("role").GetString());
        var (png, seed) = Assert.Single(Images(body));
        Assert.Equal(42UL, seed);
        var image = ImageFileReader.Decode(png, "response");
        Assert.Equal((64, 48), (image.Width, image.Height));
        Assert.Equal(LibraryPng(new GenerationRequest { Prompt = "a red fox", Width = 64, Height = 48, Seed = 42, Guidance = 3.5 }), png);
        var text = Flux2.Tests.TestImages.PngText(png);
        Assert.Equal(("a red fox", "42", "64x48"), (text["prompt"], text["seed"], text["size"]));
        Assert.StartsWith("flux2 ", text["Software"]);
    }

    [Theory]
    [InlineData("jpeg")]
    [InlineData("webp")]
    public async Task JpegAndWebpOutputsAreTheSameImageLossilyEncoded(string format)
    {
        var (status, body) = await PostAsync(Client,
            """{"input": "a red fox", "seed": 42, "provider_options": {"image": {"width": 64, "height": 48, "output_format": """ + "\"" + format + "\"}}}");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var (bytes, _) = Assert.Single(Images(body));
        Assert.Equal(format, ImageFormats.Of(bytes));
        var image = ImageFileReader.Decode(bytes, "response");
        var png = ImageFileReader.Decode(LibraryPng(new GenerationRequest { Prompt = "a red fox", Width = 64, Height = 48, Seed = 42 }), "library");
        Assert.Equal((64, 48), (image.Width, image.Height));
        Assert.True(Flux2.Tests.TestImages.BlockMeanDifference(image.Width, png.Pixels, image.Pixels) < 3, $"{format}: mean difference {Flux2.Tests.TestImages.BlockMeanDifference(image.Width, png.Pixels, image.Pixels)}");
    }

    [Fact]
    public async Task SeveralImagesGetConsecutiveSeedsAndARepositoryIdNamesTheModel()
    {
        var (status, body) = await PostAsync(Client, """
            {"model": "black-forest-labs/FLUX.2-klein-tiny", "input": "two cats", "seed": 7,
             "provider_options": {"image": {"width": 32, "height": 32, "num_images": 2}}}
            """);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var images = Images(body);
        Assert.Equal([7UL, 8UL], images.Select(i => i.Seed));
        Assert.NotEqual(images[0].Png, images[1].Png);
    }

    [Fact]
    public async Task EditingWithDataUriImagesMatchesTheLibrary()
    {
        var first = Gradient(80, 64);
        var second = Gradient(64, 64);
        var json = JsonSerializer.Serialize(new
        {
            model = "FLUX.2-klein-tiny",
            seed = 3,
            input = new object[]
            {
                new
                {
                    role = "user",
                    content = new object[]
                    {
                        new { type = "input_image", image_url = DataUri(first) },
                        new { type = "input_image", image_url = DataUri(second) },
                        new { type = "input_text", text = "make it blue" },
                    },
                },
            },
        });
        var (status, body) = await PostAsync(Client, json);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        var (png, _) = Assert.Single(Images(body));
        var image = ImageFileReader.Decode(png, "response");
        Assert.Equal((80, 64), (image.Width, image.Height)); // the first reference's size
        Assert.Equal(LibraryPng(new GenerationRequest
        {
            Prompt = "make it blue",
            Seed = 3,
            ReferenceImages = [new ReferenceImage("a", first), new ReferenceImage("b", second)],
        }, "input[0].content[0].image_url", "input[0].content[1].image_url"), png);
    }

    [Theory]
    [InlineData("""{"input": ""}""", 400, "input")]
    [InlineData("""{"input": "a\u0007"}""", 400, "input")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"negative_prompt": "\ufffe"}}}""", 400, "provider_options.image.negative_prompt")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"negative_prompt": "blurry"}}}""", 400, "provider_options.image.negative_prompt")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"width": 8192, "height": 8192, "num_images": 2}}}""", 400, "provider_options.image")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"width": 0}}}""", 400, "provider_options.image.width")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"height": "big"}}}""", 400, "provider_options.image.height")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"steps": 8}}}""", 400, "provider_options.image.steps")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"num_images": 0}}}""", 400, "provider_options.image.num_images")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"guidance_scale": -1}}}""", 400, "provider_options.image.guidance_scale")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"output_format": "gif"}}}""", 400, "provider_options.image.output_format")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"response_format": "url"}}}""", 400, "provider_options.image.response_format")]
    [InlineData("""{"input": "x", "provider_options": {"image": {"sharpness": 2}}}""", 400, "provider_options.image.sharpness")]
    [InlineData("""{"input": "x", "seed": -1}""", 400, "seed")]
    [InlineData("""{"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,@@@"}]}]}""", 400, "input[0].content[0].image_url")]
    [InlineData("""{"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,aGVsbG8="}]}]}""", 400, "input[0].content[0].image_url")]
    [InlineData("""{"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "http://127.0.0.1/cat.png"}]}]}""", 400, "input[0].content[0].image_url")]
    [InlineData("""{"input": [{"role": "user", "content": [{"type": "input_audio"}]}]}""", 400, "input[0].content[0].type")]
    [InlineData("""{"model": "FLUX.2-dev", "input": "x"}""", 404, "model")]
    public async Task BadRequestsAreRefusedNamingTheField(string json, int expectedStatus, string param)
    {
        var (status, body) = await PostAsync(Client, json);
        Assert.Equal(expectedStatus, (int)status);
        var error = body.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(param, error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task InvalidJsonAndAnUnusableReferenceImageAreRefused()
    {
        var (status, body) = await PostAsync(Client, "{not json");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("not valid JSON", body.GetProperty("error").GetProperty("message").GetString());

        // Decodable but too small for the VAE (sides must be >= 64 px): refused as it is read, naming the image's own field.
        var json = JsonSerializer.Serialize(new
        {
            input = new object[] { new { role = "user", content = new object[] { new { type = "input_image", image_url = DataUri(Gradient(8, 8)) } } } },
        });
        (status, body) = await PostAsync(Client, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input[0].content[0].image_url", body.GetProperty("error").GetProperty("param").GetString());
    }

    /// <summary>An 11th image is refused before it is decoded (here it is not an image at all): a request of thousands of
    /// small images would otherwise be decoded whole before the count is checked.</summary>
    [Fact]
    public async Task AnImagePastTheLimitIsRefusedBeforeItIsDecoded()
    {
        var images = Enumerable.Repeat<object>(new { type = "input_image", image_url = DataUri(Gradient(64, 64)) }, 10)
            .Append(new { type = "input_image", image_url = "data:image/png;base64,bm90IGFuIGltYWdl" });
        var json = JsonSerializer.Serialize(new { input = new object[] { new { role = "user", content = images.ToArray() } } });
        var (status, body) = await PostAsync(Client, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input[0].content[10]", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("more than 10 reference images", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Theory]
    [InlineData(new byte[] { 0xFF, 0x41 }, "input")]
    [InlineData(new byte[] { 0xC3 }, "input")]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, "input")] // a surrogate encoded in UTF-8 (CESU), not valid UTF-8
    [InlineData(new byte[] { 0x5C, 0x75, 0x64, 0x38, 0x30, 0x30 }, "input")] // \ud800: a lone surrogate escape
    [InlineData(new byte[] { 0x5C, 0x75, 0x64, 0x63, 0x30, 0x30, 0x78 }, "input")] // \udc00x: a lone low surrogate
    public async Task InvalidTextInAJsonStringIsA400NamingTheField(byte[] bad, string param)
    {
        byte[] body = [.. "{\"input\": \"a fox "u8, .. bad, .. "\"}"u8];
        using var response = await Client.PostAsync("v1/responses", new ByteArrayContent(body) { Headers = { { "Content-Type", "application/json" } } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
    }

    [Fact]
    public async Task InvalidTextInNestedFieldsAndOptionNamesIsA400()
    {
        foreach (var (json, param) in new[]
        {
            ("{\"input\": \"x\", \"provider_options\": {\"image\": {\"negative_prompt\": \"\\udfff\"}}}", "provider_options.image.negative_prompt"),
            ("{\"input\": \"x\", \"provider_options\": {\"image\": {\"\\ud800\": 1}}}", "provider_options.image"),
            ("{\"input\": [{\"role\": \"user\", \"content\": [{\"type\": \"input_text\", \"text\": \"\\ud83d\"}]}]}", "input[0].content[0].text"),
            ("{\"model\": \"\\ud800\", \"input\": \"x\"}", "model"),
        })
        {
            var (status, body) = await PostAsync(Client, json);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
        }
    }

    /// <summary>Parsers disagree on which of two same-named fields counts (System.Text.Json reads the last, others the
    /// first): a repeat anywhere in the body is refused, naming it, as the form path refuses one.</summary>
    [Fact]
    public async Task AFieldGivenTwiceIsA400NamingIt()
    {
        foreach (var (json, param) in new[]
        {
            ("{\"input\": \"x\", \"seed\": 1, \"seed\": 2}", "seed"),
            ("{\"input\": \"x\", \"provider_options\": {\"image\": {\"width\": 64, \"width\": 8192}}}", "provider_options.image.width"),
            ("{\"input\": [{\"role\": \"user\", \"content\": [{\"type\": \"input_text\", \"text\": \"a\", \"text\": \"b\"}]}]}", "input[0].content[0].text"),
            ("{\"input\": \"x\", \"metadata\": {\"a\": {\"\\u0062\": 1, \"b\": 2}}}", "metadata.a.b"), // the same name, once escaped
        })
        {
            var (status, body) = await PostAsync(Client, json);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal(param, body.GetProperty("error").GetProperty("param").GetString());
            Assert.Equal($"{param}: given twice", body.GetProperty("error").GetProperty("message").GetString());
        }
        using var response = await Client.PostAsync("v1/images/generations",
            new StringContent("{\"prompt\": \"a\", \"n\": 1, \"n\": 16}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("\"n: given twice\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AReferenceImageDeclaringTwentyThousandSquaredIsA400BeforeDecoding()
    {
        var bomb = Flux2.Tests.TestImages.Png(20000, 20000, colorType: 0, bitDepth: 1, _ => new byte[2500]);
        var json = JsonSerializer.Serialize(new
        {
            input = new object[] { new { role = "user", content = new object[] { new { type = "input_image", image_url = "data:image/png;base64," + Convert.ToBase64String(bomb) } } } },
        });
        var (status, body) = await PostAsync(Client, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        var error = body.GetProperty("error");
        Assert.Equal("input[0].content[0].image_url", error.GetProperty("param").GetString());
        Assert.Contains("20000x20000 = 400000000 pixels, more than the 67108864-pixel limit", error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task HealthAndModelsDescribeTheLoadedModel()
    {
        var health = JsonDocument.Parse(await Client.GetStringAsync("health")).RootElement;
        Assert.Equal("ok", health.GetProperty("status").GetString());
        Assert.Equal("klein (distilled)", health.GetProperty("variant").GetString());
        Assert.Equal("FLUX.2-klein-tiny", health.GetProperty("model").GetString());
        Assert.StartsWith("cpu", health.GetProperty("device").GetString());
        Assert.False(health.TryGetProperty("device_memory", out _)); // a GPU backend's only

        var models = JsonDocument.Parse(await Client.GetStringAsync("v1/models")).RootElement;
        Assert.Equal("FLUX.2-klein-tiny", Assert.Single(models.GetProperty("data").EnumerateArray()).GetProperty("id").GetString());
    }

    [Fact]
    public void AGpuBackendsMemoryIsReportedInBytes()
    {
        var json = ImageServer.DeviceMemoryJson(new DeviceMemoryUse(InUse: 10L << 30, Cached: 1 << 20, Peak: 12L << 30, DeviceFree: 100L << 30,
            DeviceTotal: 141L << 30));
        Assert.Equal("""{"in_use_bytes":10737418240,"cached_bytes":1048576,"peak_bytes":12884901888,"free_bytes":107374182400,"total_bytes":151397597184}""",
            json.ToJsonString());
    }

    [Fact]
    public void TheServerListensOnLoopback() =>
        Assert.True(IPAddress.IsLoopback(IPAddress.Parse(server.Server.BaseAddress.Host)), server.Server.BaseAddress.ToString());
}
