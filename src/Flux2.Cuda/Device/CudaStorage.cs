using Flux2.Core;

namespace Flux2.Cuda.Device;

/// <summary>Device memory holding tensor elements: a block of the backend's <see cref="DeviceMemoryPool"/>, returned to it
/// on disposal. The host cannot read it; data crosses through the backend's upload and download.</summary>
internal sealed class CudaStorage : TensorStorage
{
    private ulong _pointer;

    public CudaStorage(DeviceMemoryPool pool, DeviceRef device, long bytes) : base(device, bytes)
    {
        Pool = pool;
        _pointer = pool.Rent(bytes);
    }

    public DeviceMemoryPool Pool { get; }

    /// <summary>The device address of the first byte.</summary>
    public ulong Pointer => _pointer != 0 ? _pointer : throw new ObjectDisposedException(nameof(CudaStorage), $"{Device} memory was disposed");

    public override bool IsHostAccessible => false;

    public override nint HostAddress =>
        throw new InvalidOperationException($"{Bytes} bytes of {Device} memory cannot be read by the host; download them through the backend");

    public override void Dispose()
    {
        var pointer = Interlocked.Exchange(ref _pointer, 0);
        if (pointer != 0) Pool.Return(pointer, Bytes);
    }
}
