using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Tests.Threading;

public class ComputePoolTests
{
    private struct CountHits : IParallelWork
    {
        public int[] Hits;
        public readonly void Execute(int index) => Interlocked.Increment(ref Hits[index]);
    }

    /// <summary>Each outer item runs an inner For on the same pool: it must run inline instead of deadlocking.</summary>
    private struct NestedFor : IParallelWork
    {
        public ComputePool Pool;
        public int[][] Hits;
        public readonly void Execute(int index) => Pool.For(Hits[index].Length, new CountHits { Hits = Hits[index] });
    }

    private struct SlowHits : IParallelWork
    {
        public int[] Hits;
        public ManualResetEventSlim Started;
        public readonly void Execute(int index)
        {
            Started.Set();
            Thread.Sleep(2);
            Interlocked.Increment(ref Hits[index]);
        }
    }

    private struct Throwing : IParallelWork
    {
        public readonly void Execute(int index)
        {
            if (index == 5) throw new InvalidOperationException("item 5");
        }
    }

    [Fact]
    public void EveryIndexRunsExactlyOnce()
    {
        using var pool = new ComputePool(3);
        var hits = new int[1000];
        pool.For(hits.Length, new CountHits { Hits = hits });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    /// <summary>Calls so short that the caller often finishes them before a worker wakes and takes back its start signal:
    /// each must still run every index once, with all of them done when it returns, and the pool must not lose count of
    /// its workers (bounded, so a miscount fails instead of hanging the run).</summary>
    [Fact]
    public async Task ShortCallsRunEveryIndexOnceBeforeReturning()
    {
        // Not disposed on failure: a call that never returns holds the lock Dispose takes.
        var pool = new ComputePool(3);
        var cancellation = TestContext.Current.CancellationToken;
        await Task.Run(() =>
        {
            for (int call = 0; call < 20_000; call++)
            {
                var hits = new int[1 + call % 7];
                pool.For(hits.Length, new CountHits { Hits = hits });
                Assert.All(hits, h => Assert.Equal(1, h));
            }
        }, cancellation).WaitAsync(TimeSpan.FromSeconds(60), cancellation);
        pool.Dispose();
    }

    [Fact]
    public void NestedCallsRunInline()
    {
        using var pool = new ComputePool(2);
        var hits = Enumerable.Range(0, 8).Select(_ => new int[50]).ToArray();
        pool.For(hits.Length, new NestedFor { Pool = pool, Hits = hits });
        Assert.All(hits, inner => Assert.All(inner, h => Assert.Equal(1, h)));
    }

    [Fact]
    public void FailureInAWorkItemReachesTheCaller()
    {
        using var pool = new ComputePool(2);
        var e = Assert.Throws<AggregateException>(() => pool.For(20, new Throwing()));
        Assert.IsType<InvalidOperationException>(e.InnerException);
        var hits = new int[10];
        pool.For(hits.Length, new CountHits { Hits = hits });
        Assert.All(hits, h => Assert.Equal(1, h));
    }

    [Fact]
    public void SingleThreadPoolRunsInlineAndDisposes()
    {
        var pool = new ComputePool(1);
        var hits = new int[10];
        pool.For(hits.Length, new CountHits { Hits = hits });
        Assert.All(hits, h => Assert.Equal(1, h));
        pool.Dispose();
    }

    [Fact]
    public async Task DisposingDuringACallLetsItFinishAndRefusesLaterCalls()
    {
        var pool = new ComputePool(3);
        var hits = new int[200];
        using var started = new ManualResetEventSlim();
        var cancellation = TestContext.Current.CancellationToken;
        var call = Task.Run(() => pool.For(hits.Length, new SlowHits { Hits = hits, Started = started }), cancellation);
        Assert.True(started.Wait(TimeSpan.FromSeconds(10), cancellation));
        pool.Dispose();
        await call.WaitAsync(TimeSpan.FromSeconds(30), cancellation);
        Assert.All(hits, h => Assert.Equal(1, h));
        // Bounded, so a pool that would wait forever for its stopped workers fails instead of hanging the run.
        await Assert.ThrowsAsync<ObjectDisposedException>(() =>
            Task.Run(() => pool.For(10, new CountHits { Hits = new int[10] }), cancellation).WaitAsync(TimeSpan.FromSeconds(10), cancellation));
    }
}
