using System.Text;
using Flux2.Core.Backend;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Device;

/// <summary>
/// One GPU opened through the driver API: its primary context (the one cuBLASLt and other libraries share; it also
/// avoids cuCtxCreate, whose signature CUDA 13 changed) and the one stream every op of the backend is queued on, so
/// ops run in call order. The context is made current on whichever thread calls in (<see cref="MakeCurrent"/>).
/// </summary>
internal sealed unsafe class CudaDevice : IDisposable
{
    private nint _context;

    private CudaDevice(int ordinal, int handle, nint context)
    {
        Ordinal = ordinal;
        Handle = handle;
        _context = context;
        Name = ReadName(handle);
        ComputeCapability = Attribute(CudaDriver.AttributeComputeCapabilityMajor) * 10 + Attribute(CudaDriver.AttributeComputeCapabilityMinor);
        Multiprocessors = Attribute(CudaDriver.AttributeMultiprocessorCount);
        CudaDriver.Check(CudaDriver.cuDriverGetVersion(out int driver), nameof(CudaDriver.cuDriverGetVersion));
        DriverVersion = driver;
    }

    public int Ordinal { get; }
    public int Handle { get; }
    public string Name { get; }
    /// <summary>major·10 + minor: 90 for Hopper (sm_90), 80 for Ampere A100.</summary>
    public int ComputeCapability { get; }
    public int Multiprocessors { get; }
    /// <summary>The CUDA version the driver supports, as cuDriverGetVersion gives it (13000 = 13.0).</summary>
    public int DriverVersion { get; }
    public nint Stream { get; private set; }

    public string DriverVersionText => $"{DriverVersion / 1000}.{DriverVersion % 1000 / 10}";

    /// <summary>The number of CUDA devices the driver sees (0 when the driver loads but finds none).</summary>
    /// <exception cref="BackendUnavailableException">when the driver library is missing</exception>
    public static int Count()
    {
        Initialize();
        CudaDriver.Check(CudaDriver.cuDeviceGetCount(out int count), nameof(CudaDriver.cuDeviceGetCount));
        return count;
    }

    /// <exception cref="BackendUnavailableException">when the driver is missing or there is no device <paramref name="ordinal"/></exception>
    public static CudaDevice Open(int ordinal)
    {
        int count = Count();
        if (ordinal < 0 || ordinal >= count)
            throw new BackendUnavailableException(count == 0
                ? "the CUDA driver finds no GPU on this machine"
                : $"there is no CUDA device {ordinal}: this machine has {count} (cuda:0{(count > 1 ? $" to cuda:{count - 1}" : "")})");
        CudaDriver.Check(CudaDriver.cuDeviceGet(out int handle, ordinal), nameof(CudaDriver.cuDeviceGet));
        CudaDriver.Check(CudaDriver.cuDevicePrimaryCtxRetain(out nint context, handle), nameof(CudaDriver.cuDevicePrimaryCtxRetain));
        var device = new CudaDevice(ordinal, handle, context);
        try
        {
            device.MakeCurrent();
            CudaDriver.Check(CudaDriver.cuStreamCreate(out nint stream, CudaDriver.StreamNonBlocking), nameof(CudaDriver.cuStreamCreate));
            device.Stream = stream;
            return device;
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    /// <summary>Binds this device's context to the calling thread (the driver keeps one current context per thread; setting
    /// it costs far less than a launch, so every entry point sets it rather than tracking threads).</summary>
    public void MakeCurrent() => CudaDriver.Check(CudaDriver.cuCtxSetCurrent(_context), nameof(CudaDriver.cuCtxSetCurrent));

    /// <summary>Waits for everything queued on the stream; a kernel's failure surfaces here at the latest.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuStreamSynchronize(Stream), nameof(CudaDriver.cuStreamSynchronize));
    }

    /// <summary>Free and total device memory in bytes, as the driver reports them.</summary>
    public (ulong Free, ulong Total) MemoryInfo()
    {
        MakeCurrent();
        CudaDriver.Check(CudaDriver.cuMemGetInfo_v2(out nuint free, out nuint total), nameof(CudaDriver.cuMemGetInfo_v2));
        return (free, total);
    }

    public void Dispose()
    {
        if (_context == 0) return;
        MakeCurrent();
        if (Stream != 0)
        {
            // Disposal must not throw over an earlier error; a failing stream has already reported through an op.
            CudaDriver.cuStreamSynchronize(Stream);
            CudaDriver.cuStreamDestroy_v2(Stream);
            Stream = 0;
        }
        CudaDriver.cuDevicePrimaryCtxRelease_v2(Handle);
        _context = 0;
    }

    private static void Initialize()
    {
        NativeLibraries.Load(CudaLibrary.Driver);
        CudaDriver.Check(CudaDriver.cuInit(0), nameof(CudaDriver.cuInit));
    }

    private int Attribute(int attribute)
    {
        CudaDriver.Check(CudaDriver.cuDeviceGetAttribute(out int value, attribute, Handle), nameof(CudaDriver.cuDeviceGetAttribute));
        return value;
    }

    private static string ReadName(int handle)
    {
        byte* name = stackalloc byte[256];
        CudaDriver.Check(CudaDriver.cuDeviceGetName(name, 256, handle), nameof(CudaDriver.cuDeviceGetName));
        int length = 0;
        while (length < 256 && name[length] != 0) length++;
        return Encoding.UTF8.GetString(name, length);
    }
}
