namespace Flux2.Cuda.Native;

/// <summary>One of the NVIDIA libraries this backend binds: the names it goes by and where pip wheels put it.</summary>
/// <param name="Title">what it is, for messages</param>
/// <param name="ImportName">the name our [LibraryImport] declarations use; <see cref="NativeLibraries"/> resolves it to the loaded file</param>
/// <param name="FileNames">the file names to look for, newest CUDA major first</param>
/// <param name="WheelFolders">folders under site-packages where NVIDIA's pip wheels install it (none for the driver)</param>
/// <param name="InToolkit">whether a CUDA toolkit's lib64 holds it (the driver comes with the display driver, not the toolkit)</param>
/// <param name="Companion">a file pattern of a library it opens by name at run time, loaded from the same folder first
/// (NVRTC's builtins: NVRTC has no RUNPATH, so a copy outside the loader's folders would not find them)</param>
internal sealed record CudaLibrary(string Title, string ImportName, IReadOnlyList<string> FileNames, IReadOnlyList<string> WheelFolders,
    bool InToolkit, string? Companion = null)
{
    public static readonly CudaLibrary Driver = new("CUDA driver", "flux2-cuda-driver", ["libcuda.so.1"], [], InToolkit: false);

    public static readonly CudaLibrary Nvrtc = new("NVRTC", "flux2-nvrtc", ["libnvrtc.so.13", "libnvrtc.so.12"],
        ["nvidia/cu13/lib", "nvidia/cuda_nvrtc/lib"], InToolkit: true, Companion: "libnvrtc-builtins.so.*");

    public static readonly CudaLibrary CublasLt = new("cuBLASLt", "flux2-cublaslt", ["libcublasLt.so.13", "libcublasLt.so.12"],
        ["nvidia/cu13/lib", "nvidia/cublas/lib"], InToolkit: true);

    public static IReadOnlyList<CudaLibrary> All { get; } = [Driver, Nvrtc, CublasLt];

    public string Names => string.Join(" or ", FileNames);
}
