using System.Text;
using Flux2.Cuda.Kernels;

namespace Flux2.Cuda.Tests;

/// <summary>Every kernel source compiles with NVRTC for Ampere (sm_80) and Hopper (sm_90) into a cubin that defines each of
/// its kernels. Needs only NVRTC, no GPU.</summary>
public sealed class NvrtcCompileTests
{
    public static TheoryData<string, int> Families()
    {
        var data = new TheoryData<string, int>();
        foreach (var family in KernelCatalog.All)
            foreach (var architecture in new[] { 80, 90 })
                data.Add(family.Name, architecture);
        return data;
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryFamilyCompilesToACubinWithItsKernels(string name, int architecture)
    {
        CudaAvailability.RequireCubinCompiler();
        var family = KernelCatalog.All.Single(f => f.Name == name);
        var cubin = KernelCompiler.Compile(family, KernelCompiler.Options(architecture));
        Assert.Equal("\x7F" + "ELF", Encoding.ASCII.GetString(cubin, 0, 4));
        var symbols = Encoding.ASCII.GetString(cubin);
        foreach (var kernel in family.Kernels) Assert.Contains(kernel + "\0", symbols);
    }

    [Fact]
    public void ACompileErrorNamesTheFileAndCarriesTheLogOnOneLine()
    {
        CudaAvailability.RequireNvrtc();
        var broken = new KernelFamily("broken", "extern \"C\" __global__ void k() { undeclared_name(); }\n", ["k"]);
        var e = Assert.Throws<CudaException>(() => KernelCompiler.Compile(broken, KernelCompiler.Options(90)));
        Assert.Equal("nvrtcCompileProgram (broken.cu)", e.Call);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.ErrorName);
        Assert.Contains("undeclared_name", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
