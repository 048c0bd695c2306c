using Flux2.Tests;
using Flux2.Cuda.Kernels;

namespace Flux2.Cuda.Tests;

/// <summary>The on-disk cubin cache: where it lives, what its key covers, and that it compiles once.</summary>
public sealed class CubinCacheTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private string Root => _directory.Path;
    private static readonly KernelFamily Family = new("demo", "extern \"C\" __global__ void k() {}\n", ["k"]);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public void TheFolderComesFromTheVariableThenXdgThenHome()
    {
        Assert.Equal("/a", CubinCache.DefaultFolder(n => n switch { CubinCache.FolderVariable => "/a", "XDG_CACHE_HOME" => "/x", _ => "/h" }));
        Assert.Equal("/x/flux2/cubin", CubinCache.DefaultFolder(n => n switch { "XDG_CACHE_HOME" => "/x", "HOME" => "/h", _ => null }));
        Assert.Equal("/h/.cache/flux2/cubin", CubinCache.DefaultFolder(n => n == "HOME" ? "/h" : null));
        Assert.Null(CubinCache.DefaultFolder(_ => null));
        Assert.Null(new CubinCache("").Folder);
    }

    [Fact]
    public void TheKeyCoversSourceCompilerAndOptions()
    {
        var name = CubinCache.FileName(Family, "12.4", KernelCompiler.Options(90));
        Assert.Matches("^demo-[0-9a-f]{32}\\.cubin$", name);
        Assert.Equal(name, CubinCache.FileName(Family, "12.4", KernelCompiler.Options(90)));
        Assert.NotEqual(name, CubinCache.FileName(Family, "12.4", KernelCompiler.Options(80)));
        Assert.NotEqual(name, CubinCache.FileName(Family, "13.0", KernelCompiler.Options(90)));
        Assert.NotEqual(name, CubinCache.FileName(Family with { Code = Family.Code + " " }, "12.4", KernelCompiler.Options(90)));
    }

    [Fact]
    public void ACubinIsCompiledOnceThenRead()
    {
        var cache = new CubinCache(Root);
        int compiled = 0;
        byte[] Compile() { compiled++; return [1, 2, 3]; }
        Assert.Equal([1, 2, 3], cache.GetOrCompile(Family, "12.4", ["-x"], Compile));
        Assert.Equal([1, 2, 3], cache.GetOrCompile(Family, "12.4", ["-x"], Compile));
        Assert.Equal(1, compiled);
        Assert.Single(Directory.EnumerateFiles(Root));
    }

    [Fact]
    public void AFolderThatCannotBeWrittenOnlyCostsACompilation()
    {
        Directory.CreateDirectory(Root);
        var blocker = Path.Combine(Root, "file");
        File.WriteAllText(blocker, "");
        var cache = new CubinCache(Path.Combine(blocker, "cubin"));
        int compiled = 0;
        for (int i = 0; i < 2; i++) Assert.Equal([7], cache.GetOrCompile(Family, "12.4", [], () => { compiled++; return [7]; }));
        Assert.Equal(2, compiled);
    }
}
