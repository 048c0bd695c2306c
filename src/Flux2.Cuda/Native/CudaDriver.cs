using System.Runtime.InteropServices;

namespace Flux2.Cuda.Native;

/// <summary>
/// The driver API functions this backend calls (libcuda.so.1), bound by their exported names: the versioned ones
/// where cuda.h maps a name to a _v2 symbol (cuMemAlloc_v2, cuMemcpyHtoDAsync_v2, ...). Every call returns a CUresult
/// that the caller passes to <see cref="Check"/>. CUdevice is an int, CUdeviceptr a 64-bit integer, handles are pointers.
/// </summary>
internal static unsafe partial class CudaDriver
{
    private const string Lib = "flux2-cuda-driver";

    // CUdevice_attribute values (cuda.h).
    public const int AttributeMultiprocessorCount = 16;
    public const int AttributeComputeCapabilityMajor = 75;
    public const int AttributeComputeCapabilityMinor = 76;
    public const int AttributeMaxSharedMemoryPerBlockOptin = 97;

    /// <summary>CU_STREAM_NON_BLOCKING: no implicit synchronisation with the legacy default stream.</summary>
    public const uint StreamNonBlocking = 1;

    /// <summary>CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES.</summary>
    public const int FunctionAttributeMaxDynamicSharedBytes = 8;

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> and the CUresult unless it is CUDA_SUCCESS.</summary>
    public static void Check(int result, string call)
    {
        if (result != 0) throw new CudaException(call, CudaErrorNames.Driver(result), result);
    }

    [LibraryImport(Lib)]
    public static partial int cuInit(uint flags);

    [LibraryImport(Lib)]
    public static partial int cuDriverGetVersion(out int version);

    [LibraryImport(Lib)]
    public static partial int cuDeviceGetCount(out int count);

    [LibraryImport(Lib)]
    public static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(Lib)]
    public static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Lib)]
    public static partial int cuDeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(Lib)]
    public static partial int cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Lib)]
    public static partial int cuDevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(Lib)]
    public static partial int cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Lib)]
    public static partial int cuCtxSetCurrent(nint context);

    [LibraryImport(Lib)]
    public static partial int cuStreamCreate(out nint stream, uint flags);

    [LibraryImport(Lib)]
    public static partial int cuStreamDestroy_v2(nint stream);

    [LibraryImport(Lib)]
    public static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(Lib)]
    public static partial int cuMemGetInfo_v2(out nuint free, out nuint total);

    [LibraryImport(Lib)]
    public static partial int cuMemAlloc_v2(out ulong pointer, nuint bytes);

    [LibraryImport(Lib)]
    public static partial int cuMemFree_v2(ulong pointer);

    [LibraryImport(Lib)]
    public static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(Lib)]
    public static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Lib)]
    public static partial int cuMemcpyDtoDAsync_v2(ulong destination, ulong source, nuint bytes, nint stream);

    [LibraryImport(Lib)]
    public static partial int cuMemsetD8Async(ulong destination, byte value, nuint count, nint stream);

    [LibraryImport(Lib)]
    public static partial int cuMemsetD32Async(ulong destination, uint value, nuint count, nint stream);

    [LibraryImport(Lib)]
    public static partial int cuModuleLoadData(out nint module, void* image);

    [LibraryImport(Lib)]
    public static partial int cuModuleUnload(nint module);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int cuModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(Lib)]
    public static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Lib)]
    public static partial int cuLaunchKernel(nint function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, nint stream, void** parameters, void** extra);

    [LibraryImport(Lib)]
    public static partial int cuEventCreate(out nint evt, uint flags);

    [LibraryImport(Lib)]
    public static partial int cuEventRecord(nint evt, nint stream);

    [LibraryImport(Lib)]
    public static partial int cuEventSynchronize(nint evt);

    // The unversioned symbol: every driver exports it (cuda.h of 12.8+ also maps the name to a _v2).
    [LibraryImport(Lib)]
    public static partial int cuEventElapsedTime(out float milliseconds, nint start, nint end);

    [LibraryImport(Lib)]
    public static partial int cuEventDestroy_v2(nint evt);
}
