using Flux2.Cuda.Native;

namespace Flux2.Cuda.Device;

/// <summary>The parameters of one kernel launch, in the kernel's order: each value is copied into an 8-byte aligned slot,
/// and <see cref="Launch"/> hands cuLaunchKernel the array of slot addresses it reads them through.</summary>
internal unsafe struct KernelArguments
{
    private const int MaxBytes = 256;
    private const int MaxCount = 24;

    private fixed byte _values[MaxBytes];
    private fixed int _offsets[MaxCount];
    private int _used;
    private int _count;

    public void Add<T>(T value) where T : unmanaged
    {
        int offset = (_used + 7) & ~7;
        if (_count == MaxCount || offset + sizeof(T) > MaxBytes) throw new InvalidOperationException("too many kernel arguments");
        fixed (byte* values = _values) *(T*)(values + offset) = value;
        _offsets[_count++] = offset;
        _used = offset + sizeof(T);
    }

    /// <summary>Queues <paramref name="function"/> on <paramref name="stream"/> with these arguments.</summary>
    public void Launch(nint function, string name, uint blocksX, uint blocksY, uint blocksZ, uint threads, uint sharedBytes, nint stream)
    {
        fixed (byte* values = _values)
        {
            void** pointers = stackalloc void*[Math.Max(1, _count)];
            for (int i = 0; i < _count; i++) pointers[i] = values + _offsets[i];
            int result = CudaDriver.cuLaunchKernel(function, blocksX, blocksY, blocksZ, threads, 1, 1, sharedBytes, stream, pointers, null);
            if (result != 0) throw new CudaException($"{nameof(CudaDriver.cuLaunchKernel)} ({name})", CudaErrorNames.Driver(result), result);
        }
    }
}
