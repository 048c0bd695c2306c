using Flux2.Cpu.Gemm.Jit;

namespace Flux2.Cpu.Tests.Gemm;

/// <summary>The emitted bf16 kernel for the tests of the bf16 paths, which run where it exists; elsewhere the processor must
/// lack the instruction (then the fp32 fallback runs instead and those tests have nothing to check).</summary>
internal static class Bf16Kernel
{
    public static Bf16MicroKernel? WhereSupported()
    {
        var kernel = Bf16MicroKernel.Available;
        if (kernel == null) Assert.False(Bf16MicroKernel.ProcessorSupports && OperatingSystem.IsLinux(), "AVX512_BF16 is present but the kernel was not emitted");
        return kernel;
    }
}
