using Flux2.Tests;
using Flux2.Cuda.Native;

namespace Flux2.Cuda.Tests;

/// <summary>The search order on fake folder trees: the plan lists the files that exist, place by place, in cuda-pathfinder
/// order with the override variable second; nothing here is loaded.</summary>
public sealed class LibrarySearchTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private string Root => _directory.Path;

    public void Dispose() => _directory.Dispose();

    private string Touch(string relative)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, []);
        return path;
    }

    private LibrarySearch Search(Dictionary<string, string> environment, params string[] systemRoots) =>
        new(name => environment.GetValueOrDefault(name), systemRoots.Select(r => Path.Combine(Root, r)).ToList());

    [Fact]
    public void NvrtcIsLookedForInPathfinderOrderWithTheOverrideSecond()
    {
        var overrideFile = Touch("override/libnvrtc.so.12");
        var cu13 = Touch("venv/lib/python3.12/site-packages/nvidia/cu13/lib/libnvrtc.so.13");
        var cu12 = Touch("venv/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12");
        var lib64 = Touch("toolkit/lib64/libnvrtc.so.12");
        var lib = Touch("toolkit/lib/libnvrtc.so.13");
        var environment = new Dictionary<string, string>
        {
            [LibrarySearch.OverrideVariable] = Path.Combine(Root, "missing") + ":" + Path.Combine(Root, "override"),
            ["VIRTUAL_ENV"] = Path.Combine(Root, "venv"),
            ["CUDA_HOME"] = Path.Combine(Root, "toolkit"),
        };

        var plan = Search(environment).Plan(CudaLibrary.Nvrtc);

        Assert.Equal([SearchKind.AlreadyLoaded, SearchKind.Files, SearchKind.Files, SearchKind.SystemLoader, SearchKind.Files, SearchKind.Files],
            plan.Select(s => s.Kind));
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12"], plan[0].Candidates);
        Assert.Equal([overrideFile], plan[1].Candidates);
        Assert.Equal([cu13, cu12], plan[2].Candidates);
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12"], plan[3].Candidates);
        Assert.Equal([lib64, lib], plan[4].Candidates);
        Assert.StartsWith("CUDA_HOME (", plan[4].Description);
        Assert.Equal("CUDA_PATH (not set)", plan[5].Description);
        Assert.Empty(plan[5].Candidates);
    }

    [Fact]
    public void TheNewerMajorComesFirstWithinAFolder()
    {
        var twelve = Touch("override/libcublasLt.so.12");
        var thirteen = Touch("override/libcublasLt.so.13");
        var plan = Search(new() { [LibrarySearch.OverrideVariable] = Path.Combine(Root, "override") }).Plan(CudaLibrary.CublasLt);
        Assert.Equal([thirteen, twelve], plan[1].Candidates);
    }

    [Fact]
    public void SitePackagesOfCondaTheUserAndTheSystemAreSearchedAfterTheVirtualEnvironment()
    {
        var venv = Touch("venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublasLt.so.12");
        var conda = Touch("conda/lib/python3.11/site-packages/nvidia/cu13/lib/libcublasLt.so.13");
        var user = Touch("home/.local/lib/python3.10/site-packages/nvidia/cublas/lib/libcublasLt.so.12");
        var system = Touch("usr/lib/python3/dist-packages/nvidia/cu13/lib/libcublasLt.so.13");
        var environment = new Dictionary<string, string>
        {
            ["VIRTUAL_ENV"] = Path.Combine(Root, "venv"),
            ["CONDA_PREFIX"] = Path.Combine(Root, "conda"),
            ["HOME"] = Path.Combine(Root, "home"),
        };

        var wheels = Search(environment, "usr/lib").Plan(CudaLibrary.CublasLt)[2];

        Assert.Equal([venv, conda, user, system], wheels.Candidates);
        Assert.Contains(Path.Combine(Root, "usr/lib/python3/dist-packages"), wheels.Description);
    }

    [Fact]
    public void TheDriverIsNeverLookedForInWheelsOrToolkits()
    {
        Touch("toolkit/lib64/libcuda.so.1");
        var plan = Search(new() { ["CUDA_HOME"] = Path.Combine(Root, "toolkit") }).Plan(CudaLibrary.Driver);
        Assert.Equal([SearchKind.AlreadyLoaded, SearchKind.Files, SearchKind.SystemLoader], plan.Select(s => s.Kind));
        Assert.Equal($"{LibrarySearch.OverrideVariable} (not set)", plan[1].Description);
    }

    [Fact]
    public void WithoutAnyPythonTheWheelStepSaysSo()
    {
        var plan = Search(new()).Plan(CudaLibrary.Nvrtc);
        Assert.Equal("pip wheels (no site-packages found)", plan[2].Description);
        Assert.Empty(plan[2].Candidates);
    }
}
