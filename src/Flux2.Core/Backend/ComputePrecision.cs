namespace Flux2.Core.Backend;

/// <summary>What a backend's matrix products (and, on a GPU, its activations) compute in.</summary>
public enum ComputePrecision
{
    /// <summary>fp32 operands and sums: the exact path every golden test is held to.</summary>
    Float32,
    /// <summary>Operands rounded to bf16, products summed in fp32: twice the fp32 rate where the hardware has bf16 dot
    /// products (AVX512_BF16 on a CPU, tensor cores on a GPU); a backend without them computes in Float32.</summary>
    BFloat16,
}
