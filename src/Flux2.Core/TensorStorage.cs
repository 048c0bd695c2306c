namespace Flux2.Core;

/// <summary>
/// A block of memory that holds tensor elements, allocated by a backend (<see cref="Backend.IBackend.Allocate"/>) or,
/// for host-side inputs and outputs, by <see cref="HostStorage"/>. Tensors are views into a storage. Whether the process
/// may read the memory directly is the storage's property: a device backend's memory never is, and asking for its host
/// address is an error rather than a silent copy (data crosses only through upload and download).
/// </summary>
public abstract class TensorStorage : IDisposable
{
    protected TensorStorage(DeviceRef device, long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        Device = device;
        Bytes = bytes;
    }

    /// <summary>Where the memory lives.</summary>
    public DeviceRef Device { get; }

    public long Bytes { get; }

    /// <summary>True when <see cref="HostAddress"/> may be read and written by the process.</summary>
    public abstract bool IsHostAccessible { get; }

    /// <summary>The host address of the first byte. Throws for memory the process cannot see into, and after disposal.</summary>
    public abstract nint HostAddress { get; }

    public abstract void Dispose();
}
