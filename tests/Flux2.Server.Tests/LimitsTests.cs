using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

/// <summary>The per-request time limit: the generation stops at its next step and the client gets a 504 (or, streaming, an
/// error event).</summary>
public sealed class TimeLimitTests(ImpatientServer server) : IClassFixture<ImpatientServer>
{
    // 10 000 steps would run for minutes; only the three-second limit ends them within the test's patience.
    private const string Slow = """{"prompt": "a slow one", "size": "16x16", "steps": 10000, "seed": 1}""";

    [Fact]
    public async Task ARequestPastTheLimitIsStoppedAndAnswered504()
    {
        int from = server.Log.Lines.Count;
        var clock = Stopwatch.StartNew();
        var answer = await SendAsync(server.Client, Json("v1/images/generations", Slow));
        Assert.Equal(HttpStatusCode.GatewayTimeout, answer.Status);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), clock.Elapsed.ToString());
        var error = answer.Body.GetProperty("error");
        Assert.Equal("timeout_error", error.GetProperty("type").GetString());
        Assert.Contains("did not finish within the server's 3-second time limit", error.GetProperty("message").GetString());
        var cancelled = await server.Log.WaitForAsync("cancelled after step", TimeSpan.FromSeconds(10), from);
        Assert.NotNull(cancelled);
        Assert.DoesNotContain("step 10000", cancelled);
    }

    [Fact]
    public async Task AStreamPastTheLimitEndsWithAnErrorEvent()
    {
        // A first request warms the server up, so that the stream's steps start well within the limit.
        var warm = await SendAsync(server.Client, Json("v1/images/generations", """{"prompt": "warm", "size": "16x16", "steps": 1}"""));
        Assert.True(warm.Status is HttpStatusCode.OK or HttpStatusCode.GatewayTimeout, warm.Body.ToString());
        var (status, _, events, text) = await EventStream.ReadAsync(server.Client, Json("v1/images/generations", Slow[..^1] + """, "stream": true}"""));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.True(events.Count >= 2, text);
        Assert.All(events.SkipLast(1), e => Assert.Equal("progress", e.Name));
        Assert.Equal("error", events[^1].Name);
        Assert.Equal("timeout_error", events[^1].Data.GetProperty("error").GetProperty("type").GetString());
    }
}

/// <summary>A body that trickles in is answered 408 at the body time limit, long before the request's own limit, so that slow
/// clients cannot hold the server's few open places.</summary>
public sealed class BodyTimeLimitTests(ImpatientReaderServer server) : IClassFixture<ImpatientReaderServer>
{
    [Theory]
    [InlineData("v1/images/generations", "application/json", "{\"prompt\": ")]
    [InlineData("v1/responses", "application/json", "{\"input\": ")]
    [InlineData("v1/images/edits", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx")]
    public async Task ABodyNotInByTheLimitIs408(string path, string contentType, string start)
    {
        int from = server.Log.Lines.Count;
        var clock = Stopwatch.StartNew();
        using var request = await RawHttp.PostAsync(server.Server.BaseAddress, path, $"Content-Type: {contentType}\r\nContent-Length: 100000\r\n", start);
        Assert.Equal("HTTP/1.1 408 Request Timeout", await request.StatusLineAsync(TimeSpan.FromSeconds(30)));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(30));
        Assert.NotNull(await server.Log.WaitForAsync("refused (408): the body did not arrive within 2 seconds", TimeSpan.FromSeconds(10), from));

        // The server goes on.
        var answer = await SendAsync(server.Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16"}"""));
        Assert.Equal(HttpStatusCode.OK, answer.Status);
    }
}

/// <summary>Every 503 says when to retry: a full queue, and a server shutting down.</summary>
public sealed class RetryAfterTests(NoQueueServer server) : IClassFixture<NoQueueServer>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private const string Slow = """{"prompt": "a slow one", "size": "16x16", "steps": 10000, "seed": 1}""";

    [Fact]
    public Task AFullQueueIsA503WithRetryAfter() => WhileOneGeneratesAsync(async from =>
    {
        foreach (var path in new[] { "v1/images/generations", "v1/responses" })
        {
            var json = path.EndsWith("responses") ? """{"input": "another"}""" : """{"prompt": "another", "size": "16x16"}""";
            var answer = await SendAsync(server.Client, Json(path, json));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
            Assert.True(answer.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, answer.Headers.ToString());
            Assert.Equal("server_busy", answer.Body.GetProperty("error").GetProperty("type").GetString());
        }
    });

    /// <summary>Past the open-request bound (here the one generating request), a request is refused before its body is read:
    /// the 503 comes while the client has sent 1 KiB of the 32 MiB it announced.</summary>
    [Fact]
    public Task ARequestPastTheOpenBoundIsRefusedBeforeItsBodyIsRead() => WhileOneGeneratesAsync(async from =>
    {
        using var request = await RawHttp.PostAsync(server.Server.BaseAddress, "v1/images/generations",
            $"Content-Type: application/json\r\nContent-Length: {32 << 20}\r\n", $"{{\"prompt\": \"{new string('x', 1024)}");
        Assert.Equal("HTTP/1.1 503 Service Unavailable", await request.StatusLineAsync(Patience));
        Assert.NotNull(await server.Log.WaitForAsync("requests are already open", Patience, from));
    });

    /// <summary>Runs <paramref name="during"/> (given the log line the test started at) while a slow request generates, then
    /// abandons that request and waits until its generation has stopped: the request is answered at once, but the
    /// generation stops at its next check, and until then a request to this server, which has no room to wait, is refused
    /// (a busy machine had let the next test's request meet it).</summary>
    private async Task WhileOneGeneratesAsync(Func<int, Task> during)
    {
        int from = server.Log.Lines.Count;
        using var abandon = new CancellationTokenSource();
        var slow = SendAsync(server.Client, Json("v1/images/generations", Slow), abandon.Token);
        Assert.True(await server.Log.WaitForAsync("generating", Patience, from) != null,
            "the slow request did not start; the server's log since the test began:\n" + string.Join("\n", server.Log.Lines.Skip(from)));
        await during(from);
        abandon.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        Assert.NotNull(await server.Log.WaitForAsync("cancelled after step", Patience, from));
        await WaitUntilAsync(async () => (await SendAsync(server.Client, new HttpRequestMessage(HttpMethod.Get, "health"))).Body
            .GetProperty("busy").GetBoolean() == false, Patience);
    }

    [Fact]
    public async Task StoppingTheServerAnswersOpenRequests503WithRetryAfter()
    {
        var log = new ServerLog();
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = server.Folder }, TestBackends.Factory(TestBackends.Cpu));
        var stopping = await ImageServer.StartAsync(pipeline, new ImageServerOptions { Port = 0, Log = log });
        using var client = new HttpClient { BaseAddress = stopping.BaseAddress, Timeout = Patience };
        var slow = SendAsync(client, Json("v1/images/generations", Slow));
        Assert.NotNull(await log.WaitForAsync("generating", Patience));
        await stopping.DisposeAsync();
        var answer = await slow.WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.Status);
        Assert.True(answer.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 }, answer.Headers.ToString());
        Assert.Contains("shutting down", answer.Body.GetProperty("error").GetProperty("message").GetString());
    }
}

/// <summary>Connections past the server's limit are closed as they arrive; one freed lets the next request in.</summary>
public sealed class ConnectionLimitTests(TwoConnectionServer server) : IClassFixture<TwoConnectionServer>
{
    [Fact]
    public async Task AConnectionPastTheLimitIsClosedUntilOneIsFreed()
    {
        var address = server.Server.BaseAddress;
        using var first = new TcpClient();
        using var second = new TcpClient();
        await first.ConnectAsync(address.Host, address.Port);
        await second.ConnectAsync(address.Host, address.Port);

        using (var refused = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) })
            await Assert.ThrowsAsync<HttpRequestException>(() => refused.GetAsync("health"));

        first.Close();
        using var admitted = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        await OpenAiWire.WaitUntilAsync(async () =>
        {
            try
            {
                using var answer = await admitted.GetAsync("health");
                return answer.StatusCode == HttpStatusCode.OK;
            }
            catch (HttpRequestException)
            {
                return false; // the server has not yet seen the first connection close
            }
        }, TimeSpan.FromSeconds(30));
    }
}

/// <summary>A generation needing more working memory than the server has is refused before it queues, naming the size.</summary>
public sealed class WorkingMemoryTests(SmallMemoryServer server) : IClassFixture<SmallMemoryServer>
{
    [Theory]
    [InlineData("v1/images/generations", """{"prompt": "x", "size": "2048x2048"}""", "size")]
    [InlineData("v1/responses", """{"input": "x", "provider_options": {"image": {"width": 2048, "height": 2048}}}""", "provider_options.image")]
    public async Task ASizeTooLargeForTheServersMemoryIsRefused(string path, string json, string param)
    {
        var answer = await SendAsync(server.Client, Json(path, json));
        Assert.Equal(HttpStatusCode.BadRequest, answer.Status);
        var error = answer.Body.GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Contains("2048x2048 needs about", error.GetProperty("message").GetString());

        var small = await SendAsync(server.Client, Json("v1/images/generations", """{"prompt": "x", "size": "16x16"}"""));
        Assert.Equal(HttpStatusCode.OK, small.Status);
    }
}
