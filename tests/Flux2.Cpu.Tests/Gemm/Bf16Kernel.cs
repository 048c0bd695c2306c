using Flux2.Cpu.Gemm.Jit;

namespace Flux2.Cpu.Tests.Gemm;

/// <summary>The emitted bf16 kernel for the tests of the bf16 paths, which run where it exists and are reported skipped
/// elsewhere (the processor must then lack the instruction: the fp32 fallback runs instead and they have nothing to check).</summary>
internal static class Bf16Kernel
{
    public static Bf16MicroKernel Required()
    {
        var kernel = Bf16MicroKernel.Available;
        if (kernel == null) Assert.False(Bf16MicroKernel.ProcessorSupports && OperatingSystem.IsLinux(), "AVX512_BF16 is present but the kernel was not emitted");
        Assert.SkipWhen(kernel == null, "this processor has no AVX512_BF16");
        return kernel;
    }
}
