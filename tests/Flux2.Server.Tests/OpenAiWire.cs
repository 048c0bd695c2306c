using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flux2.Server.Tests;

/// <summary>Requests as the OpenAI Python SDK puts them on the wire (httpx): JSON bodies, and multipart/form-data bodies
/// written byte for byte with a random hex boundary, several images as parts named <c>image[]</c>, each with its file name
/// and content type.</summary>
public static class OpenAiWire
{
    public sealed record Part(string Name, string? FileName, string? ContentType, byte[] Data)
    {
        public static Part Text(string name, string value) => new(name, null, null, Encoding.UTF8.GetBytes(value));

        public static Part File(string name, string fileName, string contentType, byte[] data) => new(name, fileName, contentType, data);
    }

    public sealed record Answer(HttpStatusCode Status, JsonElement Body, HttpResponseHeaders Headers, HttpContentHeaders ContentHeaders);

    public static HttpRequestMessage Json(string path, string json, string? apiKey = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        AddSdkHeaders(request, apiKey);
        return request;
    }

    public static HttpRequestMessage Multipart(string path, IEnumerable<Part> parts, string? apiKey = null)
    {
        var boundary = Guid.NewGuid().ToString("N");
        var content = new ByteArrayContent(MultipartBody(boundary, parts));
        content.Headers.TryAddWithoutValidation("Content-Type", $"multipart/form-data; boundary={boundary}");
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        AddSdkHeaders(request, apiKey);
        return request;
    }

    public static byte[] MultipartBody(string boundary, IEnumerable<Part> parts)
    {
        using var body = new MemoryStream();
        void Write(string text) => body.Write(Encoding.UTF8.GetBytes(text));
        foreach (var part in parts)
        {
            Write($"--{boundary}\r\nContent-Disposition: form-data; name=\"{part.Name}\"");
            if (part.FileName != null) Write($"; filename=\"{part.FileName}\"");
            Write("\r\n");
            if (part.ContentType != null) Write($"Content-Type: {part.ContentType}\r\n");
            Write("\r\n");
            body.Write(part.Data);
            Write("\r\n");
        }
        Write($"--{boundary}--\r\n");
        return body.ToArray();
    }

    public static async Task<Answer> SendAsync(HttpClient client, HttpRequestMessage request, CancellationToken cancellation = default)
    {
        using var response = await client.SendAsync(request, cancellation);
        var text = await response.Content.ReadAsStringAsync(cancellation);
        JsonElement body;
        try
        {
            body = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new Xunit.Sdk.XunitException($"{(int)response.StatusCode}: not JSON: {text}");
        }
        return new Answer(response.StatusCode, body, response.Headers, response.Content.Headers);
    }

    /// <summary>The images of an images-API response, decoded from <c>data[k].b64_json</c>.</summary>
    /// <summary>Polls <paramref name="done"/> every 50 ms until it holds; fails the test past <paramref name="patience"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> done, TimeSpan patience)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.True(clock.Elapsed < patience, "timed out waiting");
            await Task.Delay(50);
        }
    }

    public static byte[][] Images(JsonElement body) =>
        body.GetProperty("data").EnumerateArray().Select(d => Convert.FromBase64String(d.GetProperty("b64_json").GetString()!)).ToArray();

    private static void AddSdkHeaders(HttpRequestMessage request, string? apiKey)
    {
        request.Headers.TryAddWithoutValidation("User-Agent", "OpenAI/Python 1.99.0");
        request.Headers.TryAddWithoutValidation("X-Stainless-Lang", "python");
        request.Headers.TryAddWithoutValidation("X-Stainless-Retry-Count", "0");
        if (apiKey != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }
}
