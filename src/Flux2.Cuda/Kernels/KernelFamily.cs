using Flux2.Core;

namespace Flux2.Cuda.Kernels;

/// <summary>One CUDA C source file of kernels, compiled by NVRTC into one module: its name, its code (after
/// <see cref="KernelPrelude"/>) and the extern "C" kernels it defines.</summary>
internal sealed record KernelFamily(string Name, string Code, IReadOnlyList<string> Kernels)
{
    /// <summary>What NVRTC compiles: the shared prelude, then the family's code.</summary>
    public string Source => KernelPrelude.Code + "\n" + Code;

    /// <summary>The name of <paramref name="kernel"/>'s instance for an activation type: <c>silu_f32</c>, <c>silu_bf16</c>.</summary>
    public static string ForActivation(string kernel, DType dtype) => dtype switch
    {
        DType.Float32 => kernel + "_f32",
        DType.BFloat16 => kernel + "_bf16",
        _ => throw new ArgumentException($"{kernel}: {dtype} is not an activation type (Float32 or BFloat16)", nameof(dtype)),
    };

    /// <summary>The instances of each kernel for both activation types.</summary>
    public static IReadOnlyList<string> ForActivations(params string[] kernels) =>
        kernels.SelectMany(k => new[] { k + "_f32", k + "_bf16" }).ToList();
}
