using System.Runtime.InteropServices;

namespace Flux2.Core;

/// <summary>Zero-filled, 64-byte aligned native memory of this process: the CPU backend's storage and the home of
/// host-side tensors (inputs read from files, results downloaded for writing).</summary>
public sealed unsafe class HostStorage : TensorStorage
{
    /// <summary>Smallest storage mapped from the kernel's pages instead of allocated and cleared: one huge page.</summary>
    private const long MappedBytes = 2 << 20;

    private nint _address;
    private readonly bool _mapped;

    public HostStorage(long bytes, DeviceRef? device = null) : base(device ?? DeviceRef.Cpu(), bytes)
    {
        var size = (nuint)Math.Max(1, bytes);
        // The C library maps large buffers itself (above its mmap threshold, 128 KiB growing to 32 MiB) and unmaps them when
        // freed, so each short-lived activation paid for fresh 4 KiB faults and then a clearing pass. Pages mapped here come
        // zeroed, and where the kernel grants transparent huge pages they fault once per 2 MiB.
        if (bytes >= MappedBytes) _address = AnonymousPages.Map(size);
        _mapped = _address != 0;
        if (_mapped)
        {
            AnonymousPages.AdviseHugePages(_address, size);
            return;
        }
        var p = NativeMemory.AlignedAlloc(size, 64);
        NativeMemory.Clear(p, size);
        _address = (nint)p;
    }

    public override bool IsHostAccessible => true;

    public override nint HostAddress => _address != 0 ? _address : throw new ObjectDisposedException(nameof(HostStorage));

    public override void Dispose()
    {
        var p = Interlocked.Exchange(ref _address, 0);
        if (p == 0) return;
        if (_mapped) AnonymousPages.Unmap(p, (nuint)Math.Max(1, Bytes));
        else NativeMemory.AlignedFree((void*)p);
    }
}
