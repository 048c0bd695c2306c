namespace Flux2.Cpu.Threading;

/// <summary>One unit of parallel work; implemented by structs so that dispatching allocates nothing.</summary>
public interface IParallelWork
{
    void Execute(int index);
}

/// <summary>
/// The one thread pool every kernel uses. <see cref="For{T}"/> runs indices [0, count) on the worker
/// threads plus the calling thread and returns when all are done. One caller at a time is served; a call made
/// from inside a work item runs its indices inline on that thread (no nested parallelism, no deadlock).
/// <para>Cancellation: a thread that called <see cref="ObserveCancellation"/> has its calls stop handing out indices
/// once the token fires, and long work items poll <see cref="ThrowIfCancelled"/>; the call then throws
/// <see cref="OperationCanceledException"/> and its outputs are unspecified.</para>
/// </summary>
public sealed class ComputePool : IDisposable
{
    private static ComputePool? s_shared;
    private static readonly object s_sharedLock = new();

    /// <summary>The process-wide pool, sized to the processor count unless <see cref="ConfigureShared"/> ran first.</summary>
    public static ComputePool Shared
    {
        get
        {
            lock (s_sharedLock) return s_shared ??= new ComputePool(Environment.ProcessorCount);
        }
    }

    /// <summary>Replaces the shared pool with one of <paramref name="threadCount"/> threads (e.g. from --threads).</summary>
    public static void ConfigureShared(int threadCount)
    {
        if (threadCount < 1) throw new ArgumentOutOfRangeException(nameof(threadCount), threadCount, "need at least one thread");
        lock (s_sharedLock)
        {
            s_shared?.Dispose();
            s_shared = new ComputePool(threadCount);
        }
    }

    private readonly Thread[] _workers;
    private readonly SemaphoreSlim _start = new(0);
    // Static: the per-type dispatcher slots are shared by every pool, so calls are serialised process-wide.
    private static readonly object s_callLock = new();
    private Action<int>? _runChunk; // set per call; cached per work type, so no allocation in steady state
    private int _count;
    private int _next;
    private int _pendingWorkers;
    private readonly ManualResetEventSlim _done = new(false);
    private volatile bool _disposed;
    private Exception? _error;
    [ThreadStatic] private static bool t_insideWork;
    // The token of the thread that makes calls, and (calls being serialised) the one of the call being dispatched.
    [ThreadStatic] private static CancellationToken t_cancellation;
    private static CancellationToken s_callCancellation;

    public int ThreadCount { get; }

    public ComputePool(int threadCount)
    {
        ThreadCount = Math.Max(1, threadCount);
        _workers = new Thread[ThreadCount - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"flux2-compute-{i + 1}" };
            _workers[i].Start();
        }
    }

    public void For<T>(int count, in T work) where T : struct, IParallelWork
    {
        if (count <= 0) return;
        if (count == 1 || _workers.Length == 0 || t_insideWork)
        {
            var w = work;
            for (int i = 0; i < count; i++)
            {
                ThrowIfCancelled();
                w.Execute(i);
            }
            return;
        }
        lock (s_callLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var cancellation = t_cancellation;
            cancellation.ThrowIfCancellationRequested();
            s_callCancellation = cancellation;
            Dispatcher<T>.Work = work;
            _runChunk = Dispatcher<T>.Run;
            _count = count;
            _next = 0;
            _error = null;
            _done.Reset();
            _pendingWorkers = _workers.Length;
            _start.Release(_workers.Length);
            Drain();
            // Workers that have not woken yet (on a busy machine, one waits for a time slice) are not waited for: their
            // start signals are taken back, so they sleep on while the call ends with the work done.
            while (_start.Wait(0)) WorkerDone();
            _done.Wait();
            Dispatcher<T>.Work = default;
            _runChunk = null;
            s_callCancellation = default;
            if (_error is OperationCanceledException) throw new OperationCanceledException(cancellation);
            if (_error != null) throw new AggregateException("a parallel kernel failed", _error);
        }
    }

    private void Drain()
    {
        var run = _runChunk!;
        t_insideWork = true;
        try
        {
            var cancellation = s_callCancellation;
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < _count)
            {
                cancellation.ThrowIfCancellationRequested();
                run(i);
            }
        }
        catch (Exception e)
        {
            _error ??= e;
            _next = int.MaxValue / 2;
        }
        finally
        {
            t_insideWork = false;
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _start.Wait();
            if (_disposed) return;
            Drain();
            WorkerDone();
        }
    }

    /// <summary>One worker of the call has drained or was taken back; the last one lets the caller return.</summary>
    private void WorkerDone()
    {
        if (Interlocked.Decrement(ref _pendingWorkers) == 0) _done.Set();
    }

    /// <summary>Until the returned scope is disposed, calls made from this thread observe <paramref name="cancellation"/>.</summary>
    public static CancellationScope ObserveCancellation(CancellationToken cancellation)
    {
        var scope = new CancellationScope(t_cancellation);
        t_cancellation = cancellation;
        return scope;
    }

    /// <summary>For work items that run long (a GEMM task, an attention tile sweep): throws once the current call's token
    /// has fired, so a cancelled call ends within one block of work instead of one whole task.</summary>
    public static void ThrowIfCancelled() => (t_insideWork ? s_callCancellation : t_cancellation).ThrowIfCancellationRequested();

    /// <summary>Restores the token observed before <see cref="ObserveCancellation"/>.</summary>
    public sealed class CancellationScope(CancellationToken previous) : IDisposable
    {
        public void Dispose() => t_cancellation = previous;
    }

    /// <summary>Stops the workers once any call in flight has finished (a worker that saw the flag mid-call would
    /// never report back); later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        lock (s_callLock)
        {
            if (_disposed) return;
            _disposed = true;
            if (_workers.Length > 0) _start.Release(_workers.Length);
        }
    }

    /// <summary>Holds the struct being executed so workers can call it without boxing.</summary>
    private static class Dispatcher<T> where T : struct, IParallelWork
    {
        public static T Work;
        public static readonly Action<int> Run = i => Work.Execute(i);
    }
}
