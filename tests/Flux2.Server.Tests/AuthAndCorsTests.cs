using System.Net;
using System.Net.Http.Headers;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>The API key (Bearer, every endpoint but /health) and CORS for a listed browser origin.</summary>
public sealed class AuthAndCorsTests(SecuredServer server) : IClassFixture<SecuredServer>
{
    private HttpClient Client => server.Client;

    [Theory]
    [InlineData(null, "Bearer realm=\"flux2\"")]
    [InlineData("wrong-key", "Bearer realm=\"flux2\", error=\"invalid_token\"")]
    [InlineData(SecuredServer.Key + "x", "Bearer realm=\"flux2\", error=\"invalid_token\"")]
    public async Task AMissingOrWrongKeyIsA401WithABearerChallenge(string? key, string challenge)
    {
        foreach (var path in new[] { "v1/models", "metrics" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (key != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal(challenge, response.Headers.WwwAuthenticate.ToString());
            Assert.Contains("\"param\":\"Authorization\"", await response.Content.ReadAsStringAsync());
        }
        var answer = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16"}""", key));
        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
        Assert.Equal("authentication_error", answer.Body.GetProperty("error").GetProperty("type").GetString());
    }

    [Fact]
    public async Task TheRightKeyIsAcceptedAndHealthIsOpen()
    {
        var answer = await SendAsync(Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16", "seed": 1}""", SecuredServer.Key));
        Assert.True(answer.Status == HttpStatusCode.OK, answer.Body.ToString());
        using var health = await Client.GetAsync("health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task APreflightFromTheListedOriginIsAnsweredWithoutTheKey()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "v1/images/generations");
        preflight.Headers.Add("Origin", SecuredServer.Origin);
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,x-stainless-os");
        using var response = await Client.SendAsync(preflight);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(SecuredServer.Origin, Assert.Single(response.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("POST", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Methods")));
        Assert.Contains("authorization", string.Join(",", response.Headers.GetValues("Access-Control-Allow-Headers")));
    }

    [Fact]
    public async Task AnotherOriginGetsNoCorsHeaders()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "v1/images/generations");
        preflight.Headers.Add("Origin", "https://elsewhere.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        using var refused = await Client.SendAsync(preflight);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

        foreach (var (origin, allowed) in new[] { (SecuredServer.Origin, true), ("https://elsewhere.example", false) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "health");
            request.Headers.Add("Origin", origin);
            using var response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(allowed, response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) && values.Single() == origin);
        }
    }

    [Fact]
    public async Task ListeningBeyondLoopbackWithoutAKeyIsRefusedBeforeBinding()
    {
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = server.Folder }, TestBackends.Factory(TestBackends.Cpu));
        var e = await Assert.ThrowsAsync<ServerStartException>(() =>
            ImageServer.StartAsync(pipeline, new ImageServerOptions { Address = IPAddress.Any, Port = 0, Log = TextWriter.Null }));
        Assert.Contains("listening on 0.0.0.0 (not loopback) needs an API key", e.Message);

        // Allowed explicitly, it gets as far as binding (192.0.2.1, TEST-NET-1, is on no interface: nothing is sent).
        e = await Assert.ThrowsAsync<ServerStartException>(() => ImageServer.StartAsync(pipeline,
            new ImageServerOptions { Address = IPAddress.Parse("192.0.2.1"), Port = 0, AllowNoAuthBeyondLoopback = true, Log = TextWriter.Null }));
        Assert.StartsWith("cannot listen on 192.0.2.1:0", e.Message);
    }

    [Theory]
    [InlineData("app.example")]
    [InlineData("https://app.example/")]
    [InlineData("https://app.example/path")]
    [InlineData("ftp://app.example")]
    public void ACorsOriginMustBeAnOrigin(string origin)
    {
        var e = Assert.Throws<ServerStartException>(() => new ImageServerOptions { CorsOrigins = [origin] }.Check());
        Assert.Contains($"CORS origin '{origin}' is not an origin", e.Message);
    }
}
