using System.Runtime.InteropServices;
using Flux2.Core;

namespace Flux2.Testing;

/// <summary>Memory of the <see cref="OpaqueBackend"/>: ordinary native memory that refuses every host access, as a device's
/// memory would. Disposal is ordered after the ops already queued, like a stream-ordered free.</summary>
internal sealed unsafe class OpaqueStorage : TensorStorage
{
    private nint _address;

    public OpaqueStorage(OpaqueBackend owner, long bytes) : base(OpaqueBackend.SimulatedDevice, bytes)
    {
        Owner = owner;
        var size = (nuint)Math.Max(1, bytes);
        var p = NativeMemory.AlignedAlloc(size, 64);
        NativeMemory.Clear(p, size);
        _address = (nint)p;
    }

    public OpaqueBackend Owner { get; }

    /// <summary>The backend's own way in.</summary>
    public nint Address => _address != 0 ? _address : throw new ObjectDisposedException(nameof(OpaqueStorage), "opaque memory used after it was freed");

    public override bool IsHostAccessible => false;

    public override nint HostAddress =>
        throw new InvalidOperationException("the host may not read opaque backend memory; download it through the backend");

    public override void Dispose() => Owner.Release(this);

    /// <summary>Frees the memory, once every op queued before the disposal has run.</summary>
    public void Free()
    {
        var p = Interlocked.Exchange(ref _address, 0);
        if (p != 0) NativeMemory.AlignedFree((void*)p);
    }
}

/// <summary>A host window onto opaque memory, through which the backend hands its buffers to the CPU kernels.</summary>
internal sealed class HostWindow(nint address, long bytes) : TensorStorage(DeviceRef.Cpu(), bytes)
{
    public override bool IsHostAccessible => true;
    public override nint HostAddress => address;
    public override void Dispose() { }
}
