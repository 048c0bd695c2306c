namespace Flux2.Cpu.Conv;

/// <summary>A grow-only fp32 work buffer on the pinned heap, reused across calls so kernels allocate nothing
/// once it has reached its steady-state size.</summary>
internal sealed unsafe class PinnedScratch
{
    private float[] _buffer = [];

    /// <summary>A pointer to at least <paramref name="count"/> floats; valid until the next call.</summary>
    public float* Get(long count)
    {
        if (_buffer.Length < count)
        {
            _buffer = [];
            _buffer = GC.AllocateUninitializedArray<float>(checked((int)count), pinned: true);
        }
        return (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(_buffer));
    }
}
