using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Flux2.Pipelines.Images;
using Flux2.Tests;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>
/// Seeded mutations (<see cref="ByteMutations"/>, with JSON tokens and syntax among the insertions) of
/// valid requests to each endpoint that takes a body: every mutant is answered, 200 or a 4xx whose body is an error naming
/// what is wrong, never a 5xx. (A longer run of similar mutations found a boundary followed by more than a line of other
/// bytes answered 500; <see cref="ImagesEndpointTests.MalformedMultipartBodiesAreRefusedNamingThePart"/> keeps that case.)
/// The server has little working memory, so that a mutant that loses its size (a misspelt <c>provider_options</c>, which
/// /v1/responses lets pass among the fields OpenResponses clients send) is refused at the default 1024² instead of
/// generating for seconds.
/// </summary>
public sealed class MutationFuzzTests(SmallMemoryServer server) : IClassFixture<SmallMemoryServer>
{
    private const int Cases = 300;

    /// <summary>JSON values and syntax, and the multipart form's.</summary>
    private static readonly byte[][] Insertions = Array.ConvertAll(
        new[] { "null", "true", "-1", "0", "1e309", "\"\"", "[]", "{}", "99999999999999999999", "\"\\ud800\"", "\"", ",", ":", "--", "\r\n" },
        Encoding.UTF8.GetBytes);

    [Theory]
    [InlineData("v1/images/generations")]
    [InlineData("v1/responses")]
    [InlineData("v1/images/edits")]
    public async Task EveryMutantIsAnsweredWithoutAServerError(string path)
    {
        var (original, contentType) = Original(path);
        var rng = new Random(path.Length * 7919);
        var seen = new HashSet<HttpStatusCode>();
        for (int i = 0; i < Cases; i++)
        {
            var mutant = ByteMutations.Mutate(original, rng, maxEdits: 3, Insertions);
            var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(mutant) };
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            using var answer = await server.Client.SendAsync(request);
            var body = await answer.Content.ReadAsStringAsync();
            int status = (int)answer.StatusCode;
            Assert.True(status is 200 or (>= 400 and < 500) && (status == 200 || body.Contains("\"error\"", StringComparison.Ordinal)),
                $"case {i}: {status} {body}\n{Encoding.UTF8.GetString(mutant)}");
            seen.Add(answer.StatusCode);
        }
        // Both outcomes occur: a changed seed or prompt still generates, broken syntax does not.
        Assert.Contains(HttpStatusCode.OK, seen);
        Assert.Contains(HttpStatusCode.BadRequest, seen);
    }

    private static (byte[] Body, string ContentType) Original(string path) => path switch
    {
        "v1/images/generations" => (Encoding.UTF8.GetBytes(
            """{"prompt": "a red fox", "size": "16x16", "n": 1, "seed": 3, "steps": 4, "output_format": "png", "response_format": "b64_json"}"""),
            "application/json"),
        "v1/responses" => (Encoding.UTF8.GetBytes(
            """{"input": [{"role": "user", "content": [{"type": "input_text", "text": "a fox"}]}], "seed": 2, "provider_options": {"image": {"width": 16, "height": 16}}}"""),
            "application/json"),
        _ => (MultipartBody("bnd", [Part.Text("prompt", "make it blue"), Part.Text("size", "16x16"), Part.Text("seed", "4"),
            Part.File("image[]", "a.png", "image/png", PngWriter.Encode(ServerClient.Gradient(64, 64), []))]),
            "multipart/form-data; boundary=bnd"),
    };
}
