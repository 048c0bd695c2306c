using System.Net;
using Flux2.Models.Lora;
using Flux2.Pipelines;
using Flux2.Tests;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>Lists of prompts and LoRAs named per request, against the library's images for the same request.</summary>
public sealed class PromptListAndLoraTests(LoraServer server) : IClassFixture<LoraServer>
{
    private HttpClient Client => server.Client;

    [Fact]
    public async Task AListOfPromptsGivesNImagesOfEachInOrder()
    {
        var answer = await SendAsync(Client, Json("v1/images/generations",
            """{"prompt": ["a red fox", "a blue bird"], "n": 2, "size": "32x32", "seed": 7}"""));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
        var data = answer.Body.GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal([7UL, 8UL, 9UL, 10UL], data.Select(d => d.GetProperty("seed").GetUInt64()));
        Assert.Equal([0, 0, 1, 1], data.Select(d => d.GetProperty("prompt_index").GetInt32()));
        var expected = ResponsesEndpointTests.LibraryPngs(server.Folder,
            new GenerationRequest { Prompts = ["a red fox", "a blue bird"], NumImages = 2, Width = 32, Height = 32, Seed = 7 });
        Assert.Equal(expected, Images(answer.Body));
        Assert.Equal("a blue bird", TestImages.PngText(Images(answer.Body)[3])["prompt"]);
    }

    [Fact]
    public async Task ANamedLoraAppliesToItsRequestOnly()
    {
        const string Request = """{"prompt": "a red fox", "size": "32x32", "seed": 3, "loras": ["style:0.5"]}""";
        var withLora = await SendAsync(Client, Json("v1/images/generations", Request));
        Assert.True(withLora.Status == HttpStatusCode.OK, withLora.Body.ToString());
        var expected = ResponsesEndpointTests.LibraryPng(server.Folder,
            new GenerationRequest { Prompt = "a red fox", Width = 32, Height = 32, Seed = 3, Loras = [new LoraFile(server.Style, 0.5f)] });
        var png = Assert.Single(Images(withLora.Body));
        Assert.Equal(expected, png);
        Assert.Equal("style.safetensors:0.5", TestImages.PngText(png)["loras"]);

        var plain = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "a red fox", "size": "32x32", "seed": 3}"""));
        var plainPng = Assert.Single(Images(plain.Body));
        Assert.Equal(ResponsesEndpointTests.LibraryPng(server.Folder, new GenerationRequest { Prompt = "a red fox", Width = 32, Height = 32, Seed = 3 }), plainPng);
        Assert.NotEqual(png, plainPng);
        Assert.False(TestImages.PngText(plainPng).ContainsKey("loras"));

        // The same LoRA through /v1/responses.
        var (status, body) = await ServerClient.PostAsync(Client, """
            {"input": "a red fox", "seed": 3, "provider_options": {"image": {"width": 32, "height": 32, "loras": "style:0.5"}}}
            """);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Equal(expected, ServerClient.Images(body)[0].Png);
        Assert.Contains(server.Log.Lines, l => l.Contains("with LoRAs style:0.5"));
    }

    [Fact]
    public async Task AnUnknownOrMisfittingLoraIsRefusedAndTheServerGoesOn()
    {
        var unknown = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16", "loras": ["sytle"]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.Status);
        Assert.Equal("loras", unknown.Body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("no LoRA named 'sytle' here; the server has 'corrupt', 'misfit', 'style'", unknown.Body.GetProperty("error").GetProperty("message").GetString());

        var (status, body) = await ServerClient.PostAsync(Client,
            """{"input": "x", "seed": 1, "provider_options": {"image": {"width": 16, "height": 16, "loras": ["misfit"]}}}""");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("provider_options.image.loras", body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("misfit.safetensors: tensor 'diffusion_model.single_blocks.0.linear2.lora_A.weight'", body.GetProperty("error").GetProperty("message").GetString());

        // An unreadable file is named as the client named it, without the server's path.
        var corrupt = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16", "loras": ["corrupt"]}"""));
        Assert.Equal(HttpStatusCode.BadRequest, corrupt.Status);
        Assert.Equal("loras", corrupt.Body.GetProperty("error").GetProperty("param").GetString());
        var message = corrupt.Body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.StartsWith("corrupt.safetensors: ", message);
        Assert.DoesNotContain(server.LoraFolderPath, message);

        var after = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "a red fox", "size": "32x32", "seed": 3}"""));
        Assert.Equal(HttpStatusCode.OK, after.Status);
        Assert.Equal(ResponsesEndpointTests.LibraryPng(server.Folder, new GenerationRequest { Prompt = "a red fox", Width = 32, Height = 32, Seed = 3 }),
            Assert.Single(Images(after.Body)));
    }
}
