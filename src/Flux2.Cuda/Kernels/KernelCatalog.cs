namespace Flux2.Cuda.Kernels;

/// <summary>Every kernel family of the backend, compiled and loaded when a backend is created.</summary>
internal static class KernelCatalog
{
    public static IReadOnlyList<KernelFamily> All { get; } =
    [
        NormKernels.Family,
        ActivationKernels.Family,
        KroneckerKernels.Family,
        RopeKernels.Family,
        TextKernels.Family,
        TimestepKernels.Family,
        CopyKernels.Family,
        SamplerKernels.Family,
        LatentKernels.Family,
        AttentionKernels.Family,
        TensorCoreAttentionKernels.Family,
        ConvKernels.Family,
        SoftmaxKernels.Family,
        Fp8Kernels.Family,
    ];
}
