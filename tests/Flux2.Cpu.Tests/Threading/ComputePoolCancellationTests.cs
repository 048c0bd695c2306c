using System.Diagnostics;
using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Tests.Threading;

public unsafe class ComputePoolCancellationTests
{
    /// <summary>Counts the items run (Ran[0]) and those begun after the token had fired (Ran[1]); the item at
    /// <see cref="CancelAt"/> fires the token, as a client hanging up would.</summary>
    private struct CancelsPartway : IParallelWork
    {
        public int[] Ran;
        public int CancelAt;
        public CancellationTokenSource Source;
        public readonly void Execute(int index)
        {
            if (Source.IsCancellationRequested) Interlocked.Increment(ref Ran[1]);
            Interlocked.Increment(ref Ran[0]);
            if (index == CancelAt) Source.Cancel();
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void A_fired_token_stops_the_call_before_any_item(int threads)
    {
        using var pool = new ComputePool(threads);
        using var source = new CancellationTokenSource();
        source.Cancel();
        var ran = new int[2];
        using (ComputePool.ObserveCancellation(source.Token))
            Assert.Throws<OperationCanceledException>(() => pool.For(100, new CancelsPartway { Ran = ran, CancelAt = -1, Source = source }));
        Assert.Equal(0, ran[0]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Cancelling_during_a_call_stops_handing_out_items(int threads)
    {
        using var pool = new ComputePool(threads);
        using var source = new CancellationTokenSource();
        var ran = new int[2];
        using (ComputePool.ObserveCancellation(source.Token))
        {
            var error = Assert.Throws<OperationCanceledException>(() =>
                pool.For(10_000, new CancelsPartway { Ran = ran, CancelAt = 10, Source = source }));
            Assert.Equal(source.Token, error.CancellationToken);
        }
        // Items are handed out in order and each is checked against the token first: once it has fired, only an item
        // another thread had just taken may still begin. (Before it fires, while the cancelling thread is descheduled,
        // the others may run any number of items.)
        Assert.InRange(ran[0], 11, 10_000 - 1);
        Assert.InRange(ran[1], 0, threads - 1);
    }

    [Fact]
    public void Disposing_the_scope_restores_the_token_observed_before()
    {
        using var pool = new ComputePool(2);
        using var outer = new CancellationTokenSource();
        using var inner = new CancellationTokenSource();
        inner.Cancel();
        var ran = new int[2];
        using (ComputePool.ObserveCancellation(outer.Token))
        {
            using (ComputePool.ObserveCancellation(inner.Token))
                Assert.Throws<OperationCanceledException>(() => pool.For(8, new CancelsPartway { Ran = ran, CancelAt = -1, Source = inner }));
            pool.For(8, new CancelsPartway { Ran = ran, CancelAt = -1, Source = inner });
        }
        Assert.Equal(8, ran[0]);
    }

    [Fact]
    public void A_thread_that_observes_no_token_is_not_stopped_by_another_threads_token()
    {
        using var pool = new ComputePool(2);
        using var source = new CancellationTokenSource();
        source.Cancel();
        var ran = new int[2];
        var other = new Thread(() => pool.For(8, new CancelsPartway { Ran = ran, CancelAt = -1, Source = source }));
        using (ComputePool.ObserveCancellation(source.Token))
        {
            other.Start();
            other.Join();
        }
        Assert.Equal(8, ran[0]);
    }

    /// <summary>One GEMM of 16384 x 3072 x 4096 on one thread runs as two tasks of 1536 columns, 0.2 TFLOP (about two
    /// seconds) each; cancelled 0.2 s in, it must stop within a block of rows (milliseconds), not at the end of a task.</summary>
    [Fact]
    public void A_large_gemm_stops_within_a_block_of_work_when_cancelled()
    {
        const int m = 16384, n = 3072, k = 4096;
        using var pool = new ComputePool(1);
        var weights = GC.AllocateArray<ushort>(n * k, pinned: true);
        var x = GC.AllocateArray<float>(m * k, pinned: true);
        var y = GC.AllocateArray<float>(m * n, pinned: true);
        using var w = new LinearWeight("test.bf16", n, k, WeightFormat.BFloat16, Marshal.UnsafeAddrOfPinnedArrayElement(weights, 0), owner: weights);
        using var source = new CancellationTokenSource();
        // A thread of its own cancels: a timer's callback waits for a thread-pool thread, which a busy test run may lack.
        var canceller = new Thread(() =>
        {
            Thread.Sleep(200);
            source.Cancel();
        });
        var clock = Stopwatch.StartNew();
        canceller.Start();
        fixed (float* px = x, py = y)
        {
            float* xp = px, yp = py;
            using (ComputePool.ObserveCancellation(source.Token))
                Assert.Throws<OperationCanceledException>(() => Flux2.Cpu.Gemm.Gemm.Multiply(xp, m, k, w, yp, n, false, pool));
        }
        var returned = clock.Elapsed;
        canceller.Join();
        Assert.True(returned < TimeSpan.FromSeconds(1.2), $"the cancelled GEMM returned after {returned.TotalSeconds:F2} s");
    }
}
