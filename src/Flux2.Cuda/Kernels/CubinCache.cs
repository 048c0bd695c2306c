using System.Security.Cryptography;
using System.Text;
using Flux2.Core.Files;

namespace Flux2.Cuda.Kernels;

/// <summary>
/// Compiled cubins on disk, so NVRTC runs once per kernel source, compiler version and options (the architecture is
/// one of the options): the file name carries a SHA-256 of all four. Files are written to a temporary name and moved
/// into place, so a reader never sees half a cubin. The cache only saves time: a folder that cannot be written is
/// skipped and the kernels are compiled again next time.
/// </summary>
internal sealed class CubinCache(string? folder)
{
    /// <summary>The cache folder; empty disables the cache. Default: $XDG_CACHE_HOME/flux2/cubin or ~/.cache/flux2/cubin.</summary>
    public const string FolderVariable = "FLUX2_CUDA_CACHE";

    public string? Folder { get; } = string.IsNullOrEmpty(folder) ? null : folder;

    public static CubinCache ForProcess() => new(DefaultFolder(Environment.GetEnvironmentVariable));

    public static string? DefaultFolder(Func<string, string?> environment) => CacheFolder.Default(environment, FolderVariable, "cubin");

    /// <summary>The file a compilation is kept in.</summary>
    public static string FileName(KernelFamily family, string compilerVersion, IReadOnlyList<string> options)
    {
        var key = string.Join("\n", [family.Source, compilerVersion, .. options]);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
        return $"{family.Name}-{hash[..32]}.cubin";
    }

    /// <summary>The cubin of <paramref name="family"/>: read from the cache, or compiled by <paramref name="compile"/> and stored.</summary>
    public byte[] GetOrCompile(KernelFamily family, string compilerVersion, IReadOnlyList<string> options, Func<byte[]> compile)
    {
        if (Folder == null) return compile();
        var path = Path.Combine(Folder, FileName(family, compilerVersion, options));
        if (File.Exists(path)) return File.ReadAllBytes(path);
        var cubin = compile();
        CacheFolder.TryWrite(path, cubin); // not cached: the next run compiles again
        return cubin;
    }
}
