using System.Net;
using Flux2.Pipelines.Images;
using static Flux2.Server.Tests.ServerClient;

namespace Flux2.Server.Tests;

/// <summary>A server with a pipeline batch of 2: requests that wait together and can share a batch are generated together,
/// each answered on its own.</summary>
public sealed class BatchingTests(BatchingServer server) : IClassFixture<BatchingServer>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static string Request(string prompt, int seed, int side, int steps, int images = 1) =>
        $"{{\"input\": \"{prompt}\", \"seed\": {seed}, \"provider_options\": {{\"image\": {{\"width\": {side}, \"height\": {side}, \"steps\": {steps}, \"num_images\": {images}}}}}}}";

    /// <summary>Holds the generator with a request no other can join (its own size) until two more wait behind it.</summary>
    private async Task<Task<(HttpStatusCode, System.Text.Json.JsonElement)>> BusyAsync(int from, CancellationToken release)
    {
        var busy = PostAsync(server.Client, Request("a long one", 1, 32, 10000), release);
        Assert.NotNull(await server.Log.WaitForAsync("generating", Patience, from));
        return busy;
    }

    [Fact]
    public void TheStartLineSaysTheBatchSize() => Assert.Contains(server.Log.Lines, l => l.Contains("serving") && l.EndsWith(", up to 2 images per batch"));

    [Fact]
    public async Task WaitingRequestsOfTheSameShapeAreGeneratedTogether()
    {
        int from = server.Log.Lines.Count;
        using var release = new CancellationTokenSource();
        var busy = await BusyAsync(from, release.Token);
        var fox = PostAsync(server.Client, Request("a red fox", 2, 16, 3));
        var lighthouse = PostAsync(server.Client, Request("a lighthouse", 3, 16, 3));
        var other = PostAsync(server.Client, Request("another size", 4, 48, 3));
        await Task.Delay(300);
        release.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy);

        foreach (var answer in new[] { fox, lighthouse, other })
        {
            var (status, body) = await answer.WaitAsync(Patience);
            Assert.True(status == HttpStatusCode.OK, body.ToString());
        }
        var lines = server.Log.Lines.Skip(from).ToList();
        Assert.Equal(2, lines.Count(l => l.Contains("in one batch with 1 other request(s)")));
        Assert.Single(lines, l => l.Contains("seed 4") && l.Contains("generating") && !l.Contains("in one batch"));

        // Alone, a request gives the image it got in the batch, up to a pixel level (fp32 sums in another order).
        var (_, again) = await PostAsync(server.Client, Request("a red fox", 2, 16, 3));
        var (_, batched) = await fox;
        var alone = ImageFileReader.Decode(Images(again)[0].Png, "alone").Pixels;
        var together = ImageFileReader.Decode(Images(batched)[0].Png, "batched").Pixels;
        Assert.True(alone.Zip(together, (a, b) => Math.Abs(a - b)).Max() <= 1);
    }

    /// <summary>A request whose images would not fit one batch with the oldest waits for the next generation; a later one
    /// that fits joins.</summary>
    [Fact]
    public async Task OnlyRequestsThatFitOneBatchWithTheOldestJoinIt()
    {
        int from = server.Log.Lines.Count;
        using var release = new CancellationTokenSource();
        var busy = await BusyAsync(from, release.Token);
        var fox = PostAsync(server.Client, Request("a red fox", 7, 16, 2));
        var pair = PostAsync(server.Client, Request("two of them", 8, 16, 2, images: 2));
        var lighthouse = PostAsync(server.Client, Request("a lighthouse", 9, 16, 2));
        await Task.Delay(300);
        release.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy);
        foreach (var answer in new[] { fox, pair, lighthouse })
        {
            var (status, body) = await answer.WaitAsync(Patience);
            Assert.True(status == HttpStatusCode.OK, body.ToString());
        }
        var generating = server.Log.Lines.Skip(from).Where(l => l.Contains("generating")).ToList();
        Assert.Contains(generating, l => l.Contains("seed 7, in one batch with 1 other request(s)"));
        Assert.Contains(generating, l => l.Contains("seed 9, in one batch with 1 other request(s)"));
        Assert.Contains(generating, l => l.EndsWith("seed 8"));
    }

    [Fact]
    public async Task ARequestLeavingItsBatchIsAnsweredAtOnceAndTheOtherFinishes()
    {
        int from = server.Log.Lines.Count;
        using var release = new CancellationTokenSource();
        var busy = await BusyAsync(from, release.Token);
        using var leave = new CancellationTokenSource();
        var leaving = PostAsync(server.Client, Request("leaves", 5, 16, 400), leave.Token);
        var staying = PostAsync(server.Client, Request("stays", 6, 16, 400));
        await Task.Delay(300);
        release.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => busy);
        Assert.NotNull(await server.Log.WaitForAsync("in one batch with 1 other request(s)", Patience, from));

        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => leaving);
        Assert.NotNull(await server.Log.WaitForAsync("cancelled after step", Patience, from));
        var (status, body) = await staying.WaitAsync(Patience);
        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.Single(Images(body));
    }
}
