using System.Net;
using System.Text.Json;
using System.Text;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;
using Flux2.Tests;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>POST /v1/images/generations and /v1/images/edits as the OpenAI SDKs call them, against the distilled tiny klein
/// model over real HTTP on loopback: PNG, JPEG and WebP back, references uploaded as multipart parts, refusals by field.</summary>
public sealed class ImagesEndpointTests(DistilledServer server) : IClassFixture<DistilledServer>
{
    private HttpClient Client => server.Client;

    [Theory]
    [InlineData("png")]
    [InlineData("jpeg")]
    [InlineData("webp")]
    public async Task AGenerationComesBackInTheAskedFormat(string format)
    {
        var answer = await SendAsync(Client, Json("v1/images/generations", $$"""
            {"model": "FLUX.2-klein-tiny", "prompt": "a red fox", "n": 1, "size": "64x48", "response_format": "b64_json",
             "output_format": "{{format}}", "output_compression": 90, "seed": 42}
            """));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
        Assert.Equal(format, answer.Body.GetProperty("output_format").GetString());
        Assert.Equal("64x48", answer.Body.GetProperty("size").GetString());
        Assert.InRange(answer.Body.GetProperty("created").GetInt64(), DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        var bytes = Assert.Single(Images(answer.Body));
        Assert.Equal(format, ImageFormats.Of(bytes));
        var image = ImageFileReader.Decode(bytes, "answer");
        Assert.Equal((64, 48), (image.Width, image.Height));
        var expected = ResponsesEndpointTests.LibraryPng(server.Folder, new GenerationRequest { Prompt = "a red fox", Width = 64, Height = 48, Seed = 42 });
        if (format == "png") Assert.Equal(expected, bytes); // pixels and metadata as flux2 generate writes them
        else
        {
            Assert.Equal(Flux2.Tests.TestImages.PngText(expected), Flux2.Tests.TestImages.XmpText(bytes));
            double difference = Flux2.Tests.TestImages.BlockMeanDifference(image.Width, ImageFileReader.Decode(expected, "library").Pixels, image.Pixels);
            Assert.True(difference < 3, $"{format}: mean difference {difference}");
        }
    }

    [Fact]
    public async Task SeveralImagesGetConsecutiveSeedsAndUnusedOpenAiOptionsAreAccepted()
    {
        var answer = await SendAsync(Client, Json("v1/images/generations",
            """{"prompt": "two cats", "n": 2, "size": "32x32", "seed": 7, "steps": 4, "guidance_scale": 3.5, "quality": "high", "user": "u1"}"""));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
        Assert.Equal("32x32", answer.Body.GetProperty("size").GetString());
        Assert.Equal([7UL, 8UL], answer.Body.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("seed").GetUInt64()));
        var images = Images(answer.Body);
        Assert.NotEqual(images[0], images[1]);
    }

    [Fact]
    public async Task AnEditUploadedAsThePythonSdkDoesMatchesTheLibrary()
    {
        // Three references in the three input formats, as image[] parts (the SDK's name for a list of files).
        var first = TestImages.Png(80, 64, colorType: 2, bitDepth: 8, y => Enumerable.Range(0, 80 * 3).Select(i => (byte)(i + 3 * y)).ToArray());
        var second = SkiaImageCodec.EncodeJpeg(ServerClient.Gradient(96, 64), 90);
        var third = SkiaImageCodec.EncodeWebp(ServerClient.Gradient(64, 80), 90);
        var answer = await SendAsync(Client, Multipart("v1/images/edits",
        [
            Part.File("image[]", "first.png", "image/png", first),
            Part.File("image[]", "second.jpg", "image/jpeg", second),
            Part.File("image[]", "third.webp", "image/webp", third),
            Part.Text("prompt", "make it blue"),
            Part.Text("model", "FLUX.2-klein-tiny"),
            Part.Text("n", "1"),
            Part.Text("size", "auto"),
            Part.Text("seed", "3"),
            Part.Text("output_format", "png"),
        ]));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
        var png = Assert.Single(Images(answer.Body));
        Assert.Equal("80x64", answer.Body.GetProperty("size").GetString()); // the first reference's size
        Assert.Equal(ResponsesEndpointTests.LibraryPng(server.Folder, new GenerationRequest
        {
            Prompt = "make it blue",
            Seed = 3,
            ReferenceImages =
            [
                new ReferenceImage("first.png", ImageFileReader.Decode(first, "first")),
                new ReferenceImage("second.jpg", ImageFileReader.Decode(second, "second")),
                new ReferenceImage("third.webp", ImageFileReader.Decode(third, "third")),
            ],
        }, "first.png", "second.jpg", "third.webp"), png);
    }

    [Fact]
    public async Task AnEditFromTheDotnetMultipartContentWithOneImagePart()
    {
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(PngWriter.Encode(ServerClient.Gradient(64, 64), [])), "image", "cat.png" },
            { new StringContent("a cat in the snow"), "prompt" },
            { new StringContent("webp"), "output_format" },
            { new StringContent("32x32"), "size" },
        };
        using var response = await Client.PostAsync("v1/images/edits", form);
        var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(response.StatusCode == HttpStatusCode.OK, body.ToString());
        var bytes = Assert.Single(Images(body));
        Assert.Equal("webp", ImageFormats.Of(bytes));
        Assert.Equal(32, ImageFileReader.Decode(bytes, "answer").Width);
    }

    [Theory]
    [InlineData("""{"prompt": "x", "response_format": "url"}""", "response_format", "'url' is not supported")]
    [InlineData("""{"prompt": "x", "sede": 1}""", "sede", "unknown field")]
    [InlineData("""{"n": 1}""", "prompt", "missing")]
    [InlineData("""{"prompt": " "}""", "prompt", "must not be empty")]
    [InlineData("""{"prompt": "x", "size": "1024"}""", "size", "expected WIDTHxHEIGHT")]
    [InlineData("""{"prompt": "x", "size": "8x8"}""", "size", "sides from 16 to 8192")]
    [InlineData("""{"prompt": "x", "size": "16x16\n"}""", "size", "expected WIDTHxHEIGHT")]
    [InlineData("""{"prompt": "x", "n": 0}""", "n", "expected an integer in [1, 16]")]
    [InlineData("""{"prompt": "x", "output_format": "gif"}""", "output_format", "'gif' is not supported")]
    [InlineData("""{"prompt": "x", "output_compression": 101}""", "output_compression", "[0, 100]")]
    [InlineData("""{"prompt": "x", "background": "transparent"}""", "background", "no alpha channel")]
    [InlineData("""{"prompt": "x", "stream": "yes"}""", "stream", "true or false")]
    [InlineData("""{"prompt": "x", "steps": 8}""", "steps", "exactly 4 steps")]
    [InlineData("""{"prompt": "x", "seed": -1}""", "seed", "expected an integer")]
    [InlineData("""{"prompt": "x", "quality": 3}""", "quality", "expected a string")]
    [InlineData("""{"prompt": "x", "model": "dall-e-3"}""", "model", "not served here")]
    [InlineData("""{"prompt": []}""", "prompt", "must not be empty")]
    [InlineData("""{"prompt": ["a", " "]}""", "prompt[1]", "must not be empty")]
    [InlineData("""{"prompt": ["a", "b\u0000"]}""", "prompt[1]", "the prompt holds U+0000 at character 2, which image metadata cannot store")]
    [InlineData("""{"prompt": "x", "negative_prompt": "\u001b"}""", "negative_prompt", "the prompt holds U+001B at character 1")]
    [InlineData("""{"prompt": "x", "negative_prompt": "blurry"}""", "negative_prompt", "used only by klein-base")]
    [InlineData("""{"prompt": "x", "size": "4096x4096", "n": 5}""", "size", "5 image(s) of 4096x4096 are 83886080 pixels, more than the 67108864-pixel budget")]
    [InlineData("""{"prompt": ["a", 2]}""", "prompt[1]", "expected a string, got 2")]
    [InlineData("""{"prompt": {"text": "a"}}""", "prompt", "expected a string or an array of strings")]
    [InlineData("""{"prompt": ["a", "b", "c", "d", "e", "f", "g", "h", "i"], "n": 2}""", "n", "2 images for each of 9 prompts")]
    [InlineData("""{"prompt": "x", "loras": ["style"]}""", "loras", "this server takes no LoRAs by request")]
    [InlineData("""{"prompt": "x", "loras": ["../secret"]}""", "loras", "is not NAME or NAME:SCALE")]
    [InlineData("""{"prompt": "x", "loras": "style:strong"}""", "loras", "scale 'strong' is not a finite number")]
    [InlineData("""{"prompt": "x", "loras": "a,b,c,d,e,f,g,h,i"}""", "loras", "at most 8 LoRAs")]
    public async Task BadGenerationsAreRefusedNamingTheField(string json, string param, string problem)
    {
        var answer = await SendAsync(Client, Json("v1/images/generations", json));
        Assert.Equal(param == "model" ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest, answer.Status);
        var error = answer.Body.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains(problem, error.GetProperty("message").GetString());
    }

    /// <summary>A refusal quoting a huge value (a model name of a million characters, emoji straddling the cut) answers and
    /// logs a bounded message that still names the field and says what was expected.</summary>
    [Fact]
    public async Task AHugeValueIsQuotedInPart()
    {
        var model = string.Concat(Enumerable.Repeat("\U0001F98A", 500_000));
        var answer = await SendAsync(Client, Json("v1/images/generations", JsonSerializer.Serialize(new { prompt = "x", model })));
        Assert.Equal(HttpStatusCode.NotFound, answer.Status);
        var message = answer.Body.GetProperty("error").GetProperty("message").GetString()!;
        Assert.InRange(message.Length, 100, RequestException.MaxMessageLength + 64);
        Assert.StartsWith("model: '\U0001F98A", message);
        Assert.Contains("characters left out", message);
        Assert.EndsWith("' is not served here; this server serves 'FLUX.2-klein-tiny'", message);
        Assert.Equal(-1, XmpPacket.IndexOfUnstorable(message)); // no surrogate left without its pair
        Assert.DoesNotContain('\uFFFD', message);
    }

    /// <summary>Chunked framing Kestrel cannot read (a chunk size past 2³¹) is the client's error, a 400.</summary>
    [Theory]
    [InlineData("v1/images/generations", "application/json")]
    [InlineData("v1/responses", "application/json")]
    [InlineData("v1/images/edits", "multipart/form-data; boundary=b")]
    public async Task AnUnreadableChunkedBodyIsA400(string path, string contentType)
    {
        using var request = await RawHttp.PostAsync(server.Server.BaseAddress, path,
            $"Content-Type: {contentType}\r\nTransfer-Encoding: chunked\r\n", "ffffffff\r\n--b\r\n");
        Assert.Equal("HTTP/1.1 400 Bad Request", await request.StatusLineAsync(TimeSpan.FromSeconds(30)));
        while (await request.Answer.ReadLineAsync() is { Length: > 0 }) { } // the headers
        await request.Answer.ReadLineAsync(); // the size of the answer's one chunk
        // Said as what it is (for a form, not as a body without parts).
        Assert.Contains("the request body cannot be read: Bad chunk size data.", await request.Answer.ReadLineAsync());
    }

    /// <summary>A compressed body is refused as such (it had been read as its compressed bytes: "not valid JSON").</summary>
    [Theory]
    [InlineData("v1/images/generations")]
    [InlineData("v1/responses")]
    [InlineData("v1/images/edits")]
    public async Task ACompressedBodyIsA415(string path)
    {
        using var gzipped = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(gzipped, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write("{\"prompt\": \"x\", \"input\": \"x\"}"u8);
        var content = new ByteArrayContent(gzipped.ToArray());
        content.Headers.ContentType = new("application/json");
        content.Headers.ContentEncoding.Add("gzip");
        using var response = await Client.PostAsync(path, content);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal("identity", Assert.Single(response.Headers.GetValues("Accept-Encoding")));
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.Equal("Content-Encoding", error.GetProperty("param").GetString());
        Assert.Equal("Content-Encoding: 'gzip' is not supported; send the body unencoded", error.GetProperty("message").GetString());
    }

    /// <summary>Routing's own refusals carry a JSON error as the endpoints' do, saying what the server has.</summary>
    [Fact]
    public async Task AnUnknownPathOrMethodIsAnsweredWithAnError()
    {
        using var missing = await Client.GetAsync("v1/images/variations");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        var message = JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString();
        Assert.StartsWith("GET /v1/images/variations: no such endpoint; the server has POST /v1/responses, ", message);

        using var wrongMethod = await Client.GetAsync("v1/responses");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
        Assert.Equal("GET /v1/responses: the endpoint takes POST only",
            JsonDocument.Parse(await wrongMethod.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("message").GetString());
    }

    /// <summary>A value with line feeds cannot forge a line of the server's log: its control characters are logged escaped.</summary>
    [Fact]
    public async Task AValueCannotStartALogLineOfItsOwn()
    {
        int from = server.Log.Lines.Count;
        var answer = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16\n12:00:00 [img_forged] done"}"""));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        var refused = await server.Log.WaitForAsync("\\u000A12:00:00 [img_forged] done", TimeSpan.FromSeconds(10), from);
        Assert.NotNull(refused);
        Assert.DoesNotContain(server.Log.Lines.Skip(from), line => line.StartsWith("12:00:00 [img_forged]", StringComparison.Ordinal));
    }

    /// <summary>A file name goes into the images' metadata: one with a character metadata cannot store is refused at upload,
    /// not after the generation (which then failed to write its metadata).</summary>
    [Fact]
    public async Task AnUploadWhoseFileNameMetadataCannotStoreIsRefused()
    {
        var image = Part.File("image", "a\u0001.png", "image/png", PngWriter.Encode(ServerClient.Gradient(64, 64), []));
        var answer = await SendAsync(Client, Multipart("v1/images/edits", [image, Part.Text("prompt", "x")]));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("image[0]", answer.Body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("U+0001", answer.Body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task BadFormFieldsAreRefusedNamingTheField()
    {
        var image = Part.File("image", "a.png", "image/png", PngWriter.Encode(ServerClient.Gradient(64, 64), []));
        foreach (var (parts, param, problem) in new (Part[], string, string)[]
        {
            ([image, Part.Text("prompt", "x"), Part.Text("n", "two")], "n", "got \"two\""),
            ([image, Part.Text("prompt", "x"), Part.Text("prompt", "y")], "prompt", "given twice"),
            ([image, Part.Text("prompt", "x"), Part.Text("sede", "1")], "sede", "unknown field"),
            ([image, Part.Text("prompt", "x"), Part.File("mask", "m.png", "image/png", [1])], "mask", "masks are not supported"),
            ([Part.Text("prompt", "x")], "image", "missing"),
            ([Part.File("image[]", "notes.txt", "text/plain", "not an image"u8.ToArray()), Part.Text("prompt", "x")], "image[0]", "image[0] ('notes.txt'): not a readable image"),
            ([image, Part.Text("prompt", "x"), new Part("negative_prompt", null, null, [0xC3, 0x28])], "negative_prompt", "not valid UTF-8"),
            ([image, Part.Text("prompt", "x"), Part.Text("stream", "maybe")], "stream", "true or false"),
            // Numbers are read as JSON reads them: no white space around them, as for n above.
            ([image, Part.Text("prompt", "x"), Part.Text("guidance_scale", " 4")], "guidance_scale", "got \" 4\""),
            ([image, Part.Text("prompt", "x"), Part.Text("seed", "7 ")], "seed", "got \"7 \""),
            ([image, Part.Text("prompt", "x"), Part.Text("n", " 2")], "n", "got \" 2\""),
        })
        {
            var answer = await SendAsync(Client, Multipart("v1/images/edits", parts));
            Assert.True(answer.Status == HttpStatusCode.BadRequest, $"{param}: {answer.Body}");
            var error = answer.Body.GetProperty("error");
            Assert.Equal(param, error.GetProperty("param").GetString());
            Assert.Contains(problem, error.GetProperty("message").GetString());
        }
    }

    [Theory]
    [InlineData("huge.jpg", 60000, 50000)]
    [InlineData("huge.webp", 16383, 16383)]
    public async Task AJpegOrWebpDeclaringAHugeSizeIsRefusedBeforeDecoding(string file, int width, int height)
    {
        var bomb = file.EndsWith(".jpg") ? TestImages.JpegDeclaring(width, height) : TestImages.WebpDeclaring(width, height);
        Assert.True(bomb.Length < 2000, $"{bomb.Length} bytes");
        var answer = await SendAsync(Client, Multipart("v1/images/edits",
            [Part.File("image[]", file, "image/jpeg", bomb), Part.Text("prompt", "x")]));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        var error = answer.Body.GetProperty("error");
        Assert.Equal("image[0]", error.GetProperty("param").GetString());
        Assert.Contains($"image[0] ('{file}'): the image declares {width}x{height} = {(long)width * height} pixels, more than the 67108864-pixel limit",
            error.GetProperty("message").GetString());

        // The same file as a data: URI on /v1/responses.
        var json = JsonSerializer.Serialize(new
        {
            input = new object[] { new { role = "user", content = new object[] { new { type = "input_image", image_url = "data:image/webp;base64," + Convert.ToBase64String(bomb) } } } },
        });
        var (status, body) = await ServerClient.PostAsync(Client, json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"declares {width}x{height}", body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task MalformedMultipartBodiesAreRefusedNamingThePart()
    {
        var image = Part.File("image", "a.png", "image/png", PngWriter.Encode(ServerClient.Gradient(64, 64), []));

        // Not a form at all.
        var answer = await SendAsync(Client, Json("v1/images/edits", """{"prompt": "x"}"""));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, answer.Status);
        Assert.Equal("Content-Type", answer.Body.GetProperty("error").GetProperty("param").GetString());

        // A form without its boundary.
        answer = await SendRawAsync(MultipartBody("b0", [image]), "multipart/form-data");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("boundary is missing", answer.Body.GetProperty("error").GetProperty("message").GetString());

        // Cut off inside the second part, before the closing boundary.
        var whole = MultipartBody("b1", [Part.Text("prompt", "x"), image]);
        answer = await SendRawAsync(whole[..(whole.Length - 200)], "multipart/form-data; boundary=b1");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("image[0]", answer.Body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("ends inside this part", answer.Body.GetProperty("error").GetProperty("message").GetString());

        // A part without a form-data name.
        answer = await SendRawAsync("--b2\r\nContent-Type: text/plain\r\n\r\nx\r\n--b2--\r\n"u8.ToArray(), "multipart/form-data; boundary=b2");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("part 1", answer.Body.GetProperty("error").GetProperty("param").GetString());

        // A boundary followed by more than a line's worth of other bytes, which the reader refuses to scan past.
        answer = await SendRawAsync(Encoding.ASCII.GetBytes($"--b4\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n--b4{new string('x', 200)}\r\n"),
            "multipart/form-data; boundary=b4");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("prompt", answer.Body.GetProperty("error").GetProperty("param").GetString());
        Assert.Contains("malformed boundary line", answer.Body.GetProperty("error").GetProperty("message").GetString());

        // A body with no boundary line in it.
        answer = await SendRawAsync("just text"u8.ToArray(), "multipart/form-data; boundary=b3");
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains("holds no part", answer.Body.GetProperty("error").GetProperty("message").GetString());

        // Too many parts, and a text field past its limit (refused before the rest is read).
        answer = await SendAsync(Client, Multipart("v1/images/edits", Enumerable.Range(0, MultipartForm.MaxParts + 1).Select(i => Part.Text($"f{i}", "1"))));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Contains($"more than {MultipartForm.MaxParts} parts", answer.Body.GetProperty("error").GetProperty("message").GetString());
        Assert.Equal($"part {MultipartForm.MaxParts + 1}", answer.Body.GetProperty("error").GetProperty("param").GetString());
        answer = await SendAsync(Client, Multipart("v1/images/edits", [image, Part.Text("prompt", new string('x', MultipartForm.MaxFieldBytes + 1))]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, answer.Status);
        Assert.Equal("prompt", answer.Body.GetProperty("error").GetProperty("param").GetString());
    }

    [Fact]
    public async Task MoreReferenceImagesThanAllowedAreRefusedAtTheFirstExtraPart()
    {
        var png = PngWriter.Encode(ServerClient.Gradient(64, 64), []);
        var answer = await SendAsync(Client, Multipart("v1/images/edits",
            [.. Enumerable.Range(0, 11).Select(i => Part.File("image[]", $"{i}.png", "image/png", png)), Part.Text("prompt", "x")]));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        Assert.Equal("image[10]", answer.Body.GetProperty("error").GetProperty("param").GetString());
    }

    private async Task<Answer> SendRawAsync(byte[] body, string contentType)
    {
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return await SendAsync(Client, new HttpRequestMessage(HttpMethod.Post, "v1/images/edits") { Content = content });
    }
}
