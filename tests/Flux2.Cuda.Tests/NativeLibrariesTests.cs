using Flux2.Tests;
using Flux2.Core.Backend;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Tests;

/// <summary>Loading by the search: a miss names every place searched in one line; a file that exists but does not load is
/// named with the loader's reason. A made-up library name keeps these independent of what the machine has installed.</summary>
public sealed class NativeLibrariesTests : IDisposable
{
    private static readonly CudaLibrary Absent = new("test library", "flux2-test-absent", ["libflux2-test-absent.so.1"],
        ["nvidia/flux2_test/lib"], InToolkit: true);

    private readonly TempDirectory _directory = new();
    private string Root => _directory.Path;

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void AMissIsOneLineNamingEveryPlaceSearched()
    {
        var search = new LibrarySearch(name => name == "CUDA_HOME" ? "/opt/no-cuda-here" : null, []);
        var e = Assert.Throws<BackendUnavailableException>(() => NativeLibraries.Find(Absent, search));
        Assert.Equal("test library (libflux2-test-absent.so.1) not found; searched: already loaded; FLUX2_CUDA_LIBRARY_PATH (not set); " +
            "pip wheels (no site-packages found); system loader (LD_LIBRARY_PATH, ld.so.cache); " +
            "CUDA_HOME (/opt/no-cuda-here/lib64:/opt/no-cuda-here/lib); CUDA_PATH (not set)", e.Message);
    }

    [Fact]
    public void AFileThatDoesNotLoadIsNamedWithTheLoadersReason()
    {
        Directory.CreateDirectory(Root);
        var file = Path.Combine(Root, "libflux2-test-absent.so.1");
        File.WriteAllText(file, "not an ELF file");
        var search = new LibrarySearch(name => name == LibrarySearch.OverrideVariable ? Root : null, []);
        var e = Assert.Throws<BackendUnavailableException>(() => NativeLibraries.Find(Absent, search));
        Assert.Contains($"FLUX2_CUDA_LIBRARY_PATH ({Root}): {file} did not load: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ALibraryFoundByPathReportsTheFileTheLoaderOpened()
    {
        // libc is on every machine: found through the override folder as a stand-in for a CUDA library.
        var libc = new[] { "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64" }
            .FirstOrDefault(f => File.Exists(Path.Combine(f, "libc.so.6")));
        Assert.SkipWhen(libc == null, "no libc.so.6 in the usual folders");
        var stand = new CudaLibrary("libc", "flux2-test-libc", ["libc.so.6"], [], InToolkit: false);
        var search = new LibrarySearch(name => name == LibrarySearch.OverrideVariable ? libc : null, []);
        var loaded = NativeLibraries.Find(stand, search);
        // Already loaded in every process: the first place of the search finds it.
        Assert.Equal("already loaded", loaded.Where);
        Assert.EndsWith("libc.so.6", loaded.Path);
        Assert.NotEqual(0, loaded.Handle);
    }
}
