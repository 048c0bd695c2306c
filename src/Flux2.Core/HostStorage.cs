using System.Runtime.InteropServices;

namespace Flux2.Core;

/// <summary>Zero-filled, 64-byte aligned native memory of this process: the CPU backend's storage and the home of
/// host-side tensors (inputs read from files, results downloaded for writing).</summary>
public sealed unsafe class HostStorage : TensorStorage
{
    private nint _address;

    public HostStorage(long bytes, DeviceRef? device = null) : base(device ?? DeviceRef.Cpu(), bytes)
    {
        var size = (nuint)Math.Max(1, bytes);
        var p = NativeMemory.AlignedAlloc(size, 64);
        NativeMemory.Clear(p, size);
        _address = (nint)p;
    }

    public override bool IsHostAccessible => true;

    public override nint HostAddress => _address != 0 ? _address : throw new ObjectDisposedException(nameof(HostStorage));

    public override void Dispose()
    {
        var p = Interlocked.Exchange(ref _address, 0);
        if (p != 0) NativeMemory.AlignedFree((void*)p);
    }
}
