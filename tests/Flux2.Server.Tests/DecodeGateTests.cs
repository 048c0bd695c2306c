namespace Flux2.Server.Tests;

/// <summary>The bound on reference decodes running at once: the others wait, a cancelled wait runs nothing and holds no place.</summary>
public sealed class DecodeGateTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>Starts a decode that holds its place until <paramref name="release"/> is set.</summary>
    private static Task<int> Hold(DecodeGate gate, ManualResetEventSlim release, int value) =>
        Task.Run(() => gate.RunAsync(() =>
        {
            release.Wait(Patience);
            return value;
        }, CancellationToken.None));

    private static async Task Until(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the gate did not reach the expected state");
            await Task.Delay(5);
        }
    }

    [Fact]
    public async Task ADecodePastTheCapacityWaitsForAPlace()
    {
        var gate = new DecodeGate(2);
        using var release = new ManualResetEventSlim();
        var first = Hold(gate, release, 1);
        var second = Hold(gate, release, 2);
        await Until(() => gate.Running == 2);

        int ran = 0;
        var third = gate.RunAsync(() => Interlocked.Increment(ref ran), CancellationToken.None);
        await Until(() => gate.Waiting == 1);
        await Task.Delay(50);
        Assert.Equal(0, Volatile.Read(ref ran));
        Assert.False(third.IsCompleted);

        release.Set();
        var results = await Task.WhenAll(first, second, third).WaitAsync(Patience);
        Assert.Equal(new[] { 1, 2, 1 }, results);
        Assert.Equal((0, 0), (gate.Running, gate.Waiting));
    }

    [Fact]
    public async Task ACancelledWaitRunsNothingAndHoldsNoPlace()
    {
        var gate = new DecodeGate(1);
        using var release = new ManualResetEventSlim();
        var holder = Hold(gate, release, 1);
        await Until(() => gate.Running == 1);

        using var cancel = new CancellationTokenSource();
        bool ran = false;
        var waiting = gate.RunAsync(() => ran = true, cancel.Token);
        await Until(() => gate.Waiting == 1);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.False(ran);
        Assert.Equal(0, gate.Waiting);

        release.Set();
        Assert.Equal(1, await holder.WaitAsync(Patience));
        Assert.Equal(7, await gate.RunAsync(() => 7, CancellationToken.None).WaitAsync(Patience));
        Assert.Equal(0, gate.Running);
    }

    [Fact]
    public async Task AFailingDecodeGivesItsPlaceBack()
    {
        var gate = new DecodeGate(1);
        await Assert.ThrowsAsync<RequestException>(() => gate.RunAsync<int>(() => throw new RequestException(400, "image[0]", "not an image"), CancellationToken.None));
        Assert.Equal(0, gate.Running);
        Assert.Equal(3, await gate.RunAsync(() => 3, CancellationToken.None).WaitAsync(Patience));
    }

    [Fact]
    public void ACapacityUnderOneIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DecodeGate(0));
        var e = Assert.Throws<ServerStartException>(() => new ImageServerOptions { ConcurrentImageDecodes = 0 }.Check());
        Assert.Contains("image decodes at once must be at least 1, got 0", e.Message);
    }
}
