using System.Net;
using static Flux2.Server.Tests.ServerClient;

namespace Flux2.Server.Tests;

/// <summary>One generation at a time, and a client that goes away stops its generation (klein-base, whose step count is free).</summary>
public sealed class CancellationTests(BaseServer server) : IClassFixture<BaseServer>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task AnAbandonedRequestStopsItsLoopAndTheWaitingOneIsServed()
    {
        int from = server.Log.Lines.Count;
        using var abandon = new CancellationTokenSource();
        // 10 000 steps would run for minutes; only cancellation ends it within the test's patience.
        var slow = PostAsync(server.Client, """{"input": "a slow one", "seed": 1, "provider_options": {"image": {"width": 16, "height": 16, "steps": 10000}}}""", abandon.Token);
        Assert.NotNull(await server.Log.WaitForAsync("generating", Patience, from));
        var waiting = PostAsync(server.Client, """{"input": "a quick one", "seed": 2, "provider_options": {"image": {"width": 16, "height": 16, "steps": 2}}}""");
        await Task.Delay(200);
        Assert.False(waiting.IsCompleted); // it waits behind the slow one

        abandon.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow);
        var cancelled = await server.Log.WaitForAsync("cancelled after step", Patience, from);
        Assert.NotNull(cancelled);
        Assert.DoesNotContain("step 10000", cancelled);

        // One generation runs at a time, so the waiting one is served within the patience only if the slow loop stopped.
        // (The two log lines are not ordered: the abandoned request is answered, and logs, at once, while the loop stops
        // at its next step check and the next generation starts from there.)
        var (status, body) = await waiting.WaitAsync(Patience);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
    }

    [Fact]
    public async Task GuidanceBelowOneLogsAWarning()
    {
        int from = server.Log.Lines.Count;
        var (status, body) = await PostAsync(server.Client,
            """{"input": "x", "seed": 1, "provider_options": {"image": {"width": 16, "height": 16, "steps": 2, "guidance_scale": 0.5}}}""");
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.NotNull(await server.Log.WaitForAsync("warning: guidance_scale 0.5 < 1", TimeSpan.Zero, from));
    }
}
