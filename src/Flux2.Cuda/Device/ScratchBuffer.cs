namespace Flux2.Cuda.Device;

/// <summary>A device buffer that grows to the largest size asked of it and is reused (operands converted for a GEMM).
/// Growing returns the old block to the pool; ops queued on it still run first (stream order).</summary>
internal sealed class ScratchBuffer(DeviceMemoryPool pool) : IDisposable
{
    private ulong _pointer;
    private long _bytes;

    /// <summary>The buffer, at least <paramref name="bytes"/> long.</summary>
    public ulong Get(long bytes)
    {
        if (bytes <= _bytes) return _pointer;
        Dispose();
        _pointer = pool.Rent(bytes);
        _bytes = bytes;
        return _pointer;
    }

    public void Dispose()
    {
        if (_pointer != 0) pool.Return(_pointer, _bytes);
        _pointer = 0;
        _bytes = 0;
    }
}
