using Flux2.Cuda.Native;

namespace Flux2.Cuda.Device;

/// <summary>
/// A caching allocator of device memory: blocks are rounded up to size classes, and a freed block waits in a free
/// list for the next request of its class instead of going back to the driver (cuMemAlloc and cuMemFree synchronise
/// and cost far more than a kernel). Reuse is safe without events because every op runs on the one stream: a block
/// handed out again is written only by ops queued after those that read it. When the driver is out of memory, the cached
/// blocks are released and the allocation is tried once more.
/// </summary>
internal sealed class DeviceMemoryPool(CudaDevice device) : IDisposable
{
    private const long SmallGranularity = 512;
    private const long SmallLimit = 1L << 20;
    private const long LargeGranularity = 2L << 20;

    private readonly Dictionary<long, Stack<ulong>> _free = [];

    /// <summary>Bytes held in free lists, not handed out.</summary>
    public long CachedBytes { get; private set; }

    /// <summary>Bytes allocated from the driver and not yet freed: handed out plus cached.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>The most bytes ever held at once (the pool's peak device memory).</summary>
    public long PeakHeldBytes { get; private set; }

    /// <summary>The block size a request of <paramref name="bytes"/> gets: 512-byte steps up to 1 MiB, then 2 MiB steps
    /// (the driver's own granularity for large allocations).</summary>
    public static long SizeClass(long bytes)
    {
        long granularity = bytes <= SmallLimit ? SmallGranularity : LargeGranularity;
        return Math.Max(1, (bytes + granularity - 1) / granularity) * granularity;
    }

    /// <summary>A block of at least <paramref name="bytes"/>; give it back with <see cref="Return"/> and the same size.</summary>
    public ulong Rent(long bytes)
    {
        long size = SizeClass(bytes);
        lock (_free)
        {
            if (_free.TryGetValue(size, out var blocks) && blocks.Count > 0)
            {
                CachedBytes -= size;
                return blocks.Pop();
            }
        }
        device.MakeCurrent();
        int result = CudaDriver.cuMemAlloc_v2(out ulong pointer, (nuint)size);
        if (result == OutOfMemory)
        {
            ReleaseCached();
            result = CudaDriver.cuMemAlloc_v2(out pointer, (nuint)size);
        }
        if (result != 0)
        {
            var (free, total) = device.MemoryInfo();
            throw new CudaException(nameof(CudaDriver.cuMemAlloc_v2), CudaErrorNames.Driver(result), result,
                $"{size} bytes asked for, {free >> 20} MiB free of {total >> 20} MiB");
        }
        lock (_free)
        {
            HeldBytes += size;
            PeakHeldBytes = Math.Max(PeakHeldBytes, HeldBytes);
        }
        return pointer;
    }

    /// <summary>Takes back a block of <see cref="Rent"/>; ops queued before may still use it (stream order keeps them first).</summary>
    public void Return(ulong pointer, long bytes)
    {
        long size = SizeClass(bytes);
        lock (_free)
        {
            if (!_free.TryGetValue(size, out var blocks)) _free[size] = blocks = new Stack<ulong>();
            blocks.Push(pointer);
            CachedBytes += size;
        }
    }

    /// <summary>Gives every cached block back to the driver, after the ops that may still use them.</summary>
    public void ReleaseCached()
    {
        device.Synchronize();
        lock (_free)
        {
            foreach (var blocks in _free.Values)
                while (blocks.Count > 0) CudaDriver.Check(CudaDriver.cuMemFree_v2(blocks.Pop()), nameof(CudaDriver.cuMemFree_v2));
            HeldBytes -= CachedBytes;
            CachedBytes = 0;
        }
    }

    public void Dispose() => ReleaseCached();

    private const int OutOfMemory = 2;
}
