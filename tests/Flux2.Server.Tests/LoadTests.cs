using System.Diagnostics;
using System.Net;
using static Flux2.Server.Tests.OpenAiWire;

namespace Flux2.Server.Tests;

[CollectionDefinition(nameof(LoadTests), DisableParallelization = true)]
public sealed class LoadTestsCollection;

/// <summary>
/// A bounded load on loopback (the tiny model, a few seconds, run alone so that memory can be measured): 40 concurrent
/// requests, a burst over the queue bound while the generator is held, then clients that disconnect mid-way. Every request
/// gets a definite answer (200, or 503 with Retry-After), none is lost, the server is idle and serving afterwards, and the
/// process's memory stays bounded.
/// </summary>
[Collection(nameof(LoadTests))]
public sealed class LoadTests(LoadServer server) : IClassFixture<LoadServer>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    private static string Small(int seed) => $$"""{"prompt": "load {{seed}}", "size": "16x16", "steps": 2, "seed": {{seed}}}""";

    [Fact]
    public async Task EveryRequestGetsADefiniteAnswerAndNothingIsLeftBehind()
    {
        var client = server.Client;
        GC.Collect();
        long startRss = Rss();

        // 1. 40 at once: all fit the queue, all are served.
        var first = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => SendAsync(client, Json("v1/images/generations", Small(i))))).WaitAsync(Patience);
        Assert.All(first, a => Assert.Equal(HttpStatusCode.OK, a.Status));

        // 2. A burst of 100 while one slow request holds the generator: 40 wait and are served, the rest are refused at once.
        int from = server.Log.Lines.Count;
        using var holdCancel = new CancellationTokenSource();
        var hold = SendAsync(client, Json("v1/images/generations", """{"prompt": "hold", "size": "16x16", "steps": 10000}"""), holdCancel.Token);
        Assert.NotNull(await server.Log.WaitForAsync("generating", Patience, from));
        var burst = Enumerable.Range(100, 100).Select(i => SendAsync(client, Json("v1/images/generations", Small(i)))).ToArray();
        await WaitUntilAsync(() => burst.Count(t => t.IsCompleted) >= 100 - LoadServer.Queue);
        holdCancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hold);
        var answers = await Task.WhenAll(burst).WaitAsync(Patience);
        Assert.Equal(LoadServer.Queue, answers.Count(a => a.Status == HttpStatusCode.OK));
        var refused = answers.Where(a => a.Status != HttpStatusCode.OK).ToArray();
        Assert.Equal(100 - LoadServer.Queue, refused.Length);
        Assert.All(refused, a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status);
            Assert.True(a.Headers.RetryAfter?.Delta is { TotalSeconds: >= 1 });
        });

        // 3. 20 clients that give up after 20 to 400 ms, some while generating, some while waiting.
        var leaving = Enumerable.Range(300, 20).Select(async i =>
        {
            using var gone = new CancellationTokenSource(TimeSpan.FromMilliseconds(20 * (i - 299)));
            try
            {
                return (await SendAsync(client, Json("v1/images/generations", """{"prompt": "leaving", "size": "64x64", "steps": 50}"""), gone.Token)).Status;
            }
            catch (OperationCanceledException)
            {
                return (HttpStatusCode)499;
            }
        }).ToArray();
        var left = await Task.WhenAll(leaving).WaitAsync(Patience);
        Assert.All(left, s => Assert.True(s is HttpStatusCode.OK or (HttpStatusCode)499, s.ToString()));

        // Afterwards: every request accounted for, nothing queued or running, and a new request is served.
        Dictionary<string, double> samples = [];
        await WaitUntilAsync(async () =>
        {
            using var response = await client.GetAsync("metrics");
            samples = PrometheusText.Parse(await response.Content.ReadAsStringAsync());
            return samples["flux2_requests_in_flight"] == 1 && samples["flux2_queue_depth"] == 0 && samples["flux2_generations_running"] == 0;
        });
        double generationRequests = samples.Where(s => s.Key.StartsWith("flux2_requests_total{endpoint=\"/v1/images/generations\"", StringComparison.Ordinal)).Sum(s => s.Value);
        Assert.Equal(40 + 1 + 100 + 20, generationRequests);
        Assert.Equal(100 - LoadServer.Queue, samples["flux2_requests_total{endpoint=\"/v1/images/generations\",status=\"503\"}"]);
        var last = await SendAsync(client, Json("v1/images/generations", Small(999))).WaitAsync(Patience);
        Assert.Equal(HttpStatusCode.OK, last.Status);

        GC.Collect();
        long grown = Rss() - startRss;
        Assert.True(grown < 512L << 20, $"resident memory grew by {grown >> 20} MiB");
    }

    private static long Rss()
    {
        using var process = Process.GetCurrentProcess();
        return process.WorkingSet64;
    }

    private static Task WaitUntilAsync(Func<bool> done) => WaitUntilAsync(() => Task.FromResult(done()));

    private static Task WaitUntilAsync(Func<Task<bool>> done) => OpenAiWire.WaitUntilAsync(done, Patience);
}
