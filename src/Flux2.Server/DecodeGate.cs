namespace Flux2.Server;

/// <summary>
/// At most <see cref="Capacity"/> decodes at once; the others wait their turn, in arrival order as far as the runtime's
/// semaphore keeps it. A reference decode holds the upload's full-size bitmap (up to ~470 MB for 8192² pixels) until it
/// is brought to the pipeline's size, so without a bound every open request could hold one at the same moment.
/// </summary>
public sealed class DecodeGate
{
    private readonly SemaphoreSlim _slots;
    private int _waiting;

    public DecodeGate(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _slots = new SemaphoreSlim(capacity, capacity);
    }

    public int Capacity { get; }

    /// <summary>Decodes running now.</summary>
    public int Running => Capacity - _slots.CurrentCount;

    /// <summary>Decodes waiting for a place.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    /// <summary>Runs <paramref name="decode"/> once a place is free.</summary>
    /// <exception cref="OperationCanceledException">cancelled while waiting; <paramref name="decode"/> did not run</exception>
    public async Task<T> RunAsync<T>(Func<T> decode, CancellationToken cancellation)
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _slots.WaitAsync(cancellation);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }
        try
        {
            return decode();
        }
        finally
        {
            _slots.Release();
        }
    }
}
