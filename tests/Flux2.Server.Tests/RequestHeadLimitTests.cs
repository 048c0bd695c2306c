using System.Net;
using System.Net.Sockets;
using System.Text;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>A request line or headers past the server's limits get the JSON error every refusal has (Kestrel's own answers
/// to its limits have no body); past Kestrel's higher limits, Kestrel's bare answer is all there is.</summary>
public sealed class RequestHeadLimitTests(DistilledServer server) : IClassFixture<DistilledServer>
{
    [Fact]
    public async Task ALongUrlIsA414WithAnError()
    {
        var answer = await SendAsync(server.Client, new HttpRequestMessage(HttpMethod.Get, "health?q=" + new string('a', 9000)));
        Assert.Equal(HttpStatusCode.RequestUriTooLong, answer.Status);
        Assert.Matches(@"^the request line is 90\d\d bytes, more than the server's 8192; send long parameters in the body$",
            answer.Body.GetProperty("error").GetProperty("message").GetString());
    }

    [Fact]
    public async Task LargeOrManyHeadersAreA431WithAnError()
    {
        var large = new HttpRequestMessage(HttpMethod.Get, "health");
        large.Headers.Add("X-Large", new string('b', 40_000));
        var answer = await SendAsync(server.Client, large);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, answer.Status);
        Assert.Contains("bytes; the server takes 100 fields and 32768 bytes at most", answer.Body.GetProperty("error").GetProperty("message").GetString());

        var many = new HttpRequestMessage(HttpMethod.Get, "health");
        for (int i = 0; i < 120; i++) many.Headers.Add($"X-Field-{i}", "1");
        answer = await SendAsync(server.Client, many);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, answer.Status);

        var fine = new HttpRequestMessage(HttpMethod.Get, "health");
        fine.Headers.Add("X-Medium", new string('c', 20_000));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(server.Client, fine)).Status);
    }

    /// <summary>Past Kestrel's own 64 KiB, its empty 414 closes the connection; the server answers the next one.</summary>
    [Fact]
    public async Task PastKestrelsLimitKestrelAnswers()
    {
        var address = server.Server.BaseAddress;
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(address.Host, address.Port);
            var stream = socket.GetStream();
            await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET /health?q={new string('a', 70_000)} HTTP/1.1\r\nHost: {address.Authority}\r\n\r\n"));
            using var reader = new StreamReader(stream, Encoding.ASCII);
            Assert.StartsWith("HTTP/1.1 414", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)));
        }
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(server.Client, new HttpRequestMessage(HttpMethod.Get, "health"))).Status);
    }
}
