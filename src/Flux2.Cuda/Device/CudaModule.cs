using Flux2.Cuda.Native;

namespace Flux2.Cuda.Device;

/// <summary>A cubin loaded into the device's context, and the kernels found in it by name.</summary>
internal sealed unsafe class CudaModule : IDisposable
{
    private nint _module;

    public CudaModule(byte[] cubin, IEnumerable<string> kernelNames)
    {
        fixed (byte* image = cubin)
            CudaDriver.Check(CudaDriver.cuModuleLoadData(out _module, image), nameof(CudaDriver.cuModuleLoadData));
        foreach (var name in kernelNames)
        {
            int result = CudaDriver.cuModuleGetFunction(out nint function, _module, name);
            if (result != 0) throw new CudaException($"{nameof(CudaDriver.cuModuleGetFunction)} ({name})", CudaErrorNames.Driver(result), result);
            Functions[name] = function;
        }
    }

    public Dictionary<string, nint> Functions { get; } = new(StringComparer.Ordinal);

    public void Dispose()
    {
        if (_module != 0) CudaDriver.cuModuleUnload(_module);
        _module = 0;
    }
}
