using Flux2.Core.Backend;
using Flux2.Cuda.Device;
using Flux2.Cuda.Gemm;
using Flux2.Cuda.Kernels;
using Flux2.Cuda.Native;

namespace Flux2.Cuda;

/// <summary>What a CUDA device and the libraries of the backend are on this machine, as lines for a person to read
/// (<c>flux2 info --device cuda</c>, the device check). <see cref="Problem"/> is the one-line reason the backend cannot
/// run, or null; <see cref="FreeBytes"/> the device's free memory when it could be read.</summary>
public sealed record CudaDiagnostics(IReadOnlyList<string> Lines, string? Problem, long? FreeBytes)
{
    public static CudaDiagnostics Describe(int ordinal)
    {
        var lines = new List<string>();
        string? problem = null;
        long? freeBytes = null;
        try
        {
            var driver = NativeLibraries.Load(CudaLibrary.Driver);
            using var device = CudaDevice.Open(ordinal);
            var (free, total) = device.MemoryInfo();
            freeBytes = (long)free;
            lines.Add($"device: cuda:{ordinal} {device.Name} (sm_{device.ComputeCapability}, {device.Multiprocessors} multiprocessors)");
            lines.Add($"memory: {free >> 20} MiB free of {total >> 20} MiB");
            lines.Add($"driver: CUDA {device.DriverVersionText}, {Found(driver)}");
        }
        catch (Exception e) when (e is BackendUnavailableException or CudaException)
        {
            problem = e.Message;
            lines.Add($"driver: {e.Message}");
        }
        var nvrtc = Library(lines, "NVRTC", CudaLibrary.Nvrtc, KernelCompiler.Version);
        var cublas = Library(lines, "cuBLASLt", CudaLibrary.CublasLt, () => CublasLtGemm.Version().ToString());
        problem ??= nvrtc ?? cublas;
        var cache = CubinCache.ForProcess().Folder;
        lines.Add($"kernel cache: {cache ?? $"off ({CubinCache.FolderVariable} is empty)"}");
        return new(lines, problem, freeBytes);
    }

    /// <summary>Adds the library's line; returns the reason it is missing, or null.</summary>
    private static string? Library(List<string> lines, string title, CudaLibrary library, Func<string> version)
    {
        try
        {
            var loaded = NativeLibraries.Load(library);
            lines.Add($"{title}: {version()}, {Found(loaded)}");
            return null;
        }
        catch (Exception e) when (e is BackendUnavailableException or CudaException)
        {
            lines.Add($"{title}: {e.Message}");
            return e.Message;
        }
    }

    private static string Found(LoadedLibrary loaded) => $"{loaded.Path} (found: {loaded.Where})";
}
