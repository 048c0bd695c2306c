using System.Runtime.InteropServices;

namespace Flux2.Cuda.Native;

/// <summary>The NVRTC functions that compile our kernel sources to a cubin (libnvrtc.so.13 or .12). Every call returns an
/// nvrtcResult that the caller passes to <see cref="Check"/>.</summary>
internal static unsafe partial class Nvrtc
{
    private const string Lib = "flux2-nvrtc";

    /// <summary>Throws <see cref="CudaException"/> naming <paramref name="call"/> and the nvrtcResult unless it is NVRTC_SUCCESS;
    /// <paramref name="log"/> (the compiler's output) joins the message.</summary>
    public static void Check(int result, string call, string? log = null)
    {
        if (result != 0) throw new CudaException(call, CudaErrorNames.Nvrtc(result), result, log);
    }

    [LibraryImport(Lib)]
    public static partial int nvrtcVersion(out int major, out int minor);

    [LibraryImport(Lib, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int nvrtcCreateProgram(out nint program, string source, string name, int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(Lib)]
    public static partial int nvrtcDestroyProgram(ref nint program);

    [LibraryImport(Lib)]
    public static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);

    [LibraryImport(Lib)]
    public static partial int nvrtcGetProgramLogSize(nint program, out nuint size);

    [LibraryImport(Lib)]
    public static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(Lib)]
    public static partial int nvrtcGetCUBINSize(nint program, out nuint size);

    [LibraryImport(Lib)]
    public static partial int nvrtcGetCUBIN(nint program, byte* cubin);
}
