using Flux2.Core.Backend;
using Flux2.Cuda.Device;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Tests;

/// <summary>What this machine has of CUDA, found once per test run: tests that need NVRTC or a GPU skip, with the search's
/// one-line reason, where it is missing.</summary>
internal static class CudaAvailability
{
    private static readonly Lazy<string?> NvrtcMissing = new(() => Missing(() => NativeLibraries.Load(CudaLibrary.Nvrtc)));

    private static readonly Lazy<string?> GpuMissing = new(() => Missing(() =>
    {
        if (CudaDevice.Count() == 0) throw new BackendUnavailableException("the CUDA driver finds no GPU on this machine");
        NativeLibraries.Load(CudaLibrary.Nvrtc);
        NativeLibraries.Load(CudaLibrary.CublasLt);
    }));

    /// <summary>Skips the calling test unless NVRTC loads (FLUX2_CUDA_LIBRARY_PATH may point at a copy).</summary>
    public static void RequireNvrtc() => Assert.SkipWhen(NvrtcMissing.Value != null, $"no NVRTC: {NvrtcMissing.Value}");

    /// <summary>Skips the calling test unless NVRTC loads and makes cubins: the host emulation (tests/CudaEmulator, NVRTC
    /// version 0.x) builds host libraries instead.</summary>
    public static void RequireCubinCompiler()
    {
        RequireNvrtc();
        Nvrtc.Check(Nvrtc.nvrtcVersion(out int major, out int minor), nameof(Nvrtc.nvrtcVersion));
        Assert.SkipWhen(major == 0, $"NVRTC {major}.{minor} is the host emulation, which builds host libraries, not cubins");
    }

    /// <summary>Skips the calling test unless a GPU, its driver, NVRTC and cuBLASLt are all there.</summary>
    public static void RequireGpu() => Assert.SkipWhen(GpuMissing.Value != null, $"no GPU: {GpuMissing.Value}");

    private static string? Missing(Action probe)
    {
        try
        {
            probe();
            return null;
        }
        catch (Exception e) when (e is BackendUnavailableException or CudaException)
        {
            return e.Message;
        }
    }
}
