using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Flux2.Pipelines.Images;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>
/// Seeded mutations (bit flips, byte overwrites, JSON tokens and syntax inserted, bytes deleted or repeated, truncations) of
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

    private static readonly string[] Insertions =
        ["null", "true", "-1", "0", "1e309", "\"\"", "[]", "{}", "99999999999999999999", "\"\\ud800\"", "\"", ",", ":", "--", "\r\n"];

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
            var mutant = Mutate(original, rng);
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

    /// <summary>One to three edits anywhere in the body.</summary>
    private static byte[] Mutate(byte[] original, Random rng)
    {
        var bytes = original.ToList();
        for (int edits = rng.Next(1, 4); edits > 0 && bytes.Count > 1; edits--)
        {
            int at = rng.Next(bytes.Count);
            switch (rng.Next(6))
            {
                case 0: bytes[at] ^= (byte)(1 << rng.Next(8)); break;
                case 1: bytes[at] = (byte)rng.Next(256); break;
                case 2: bytes.InsertRange(at, Encoding.UTF8.GetBytes(Insertions[rng.Next(Insertions.Length)])); break;
                case 3: bytes.RemoveAt(at); break;
                case 4: bytes.InsertRange(rng.Next(bytes.Count), bytes.GetRange(at, Math.Min(bytes.Count - at, rng.Next(1, 200)))); break;
                case 5: if (rng.Next(4) == 0) bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return [.. bytes];
    }
}
