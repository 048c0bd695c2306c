using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Decoding;
using Flux2.Core.Numerics;

namespace Flux2.Cuda.Gemm;

/// <summary>
/// Linear weights the GPU does not run as stored, converted once at load on the host to the format of the products:
/// NVFP4, GGUF's ggml blocks, and FP8 where the GPU does not run it (below), to bf16 for bf16 products (at twice FP8's memory and four times
/// NVFP4's) or to fp32 for the exact mode (the dequantised values, bit for bit); f32 and f16 weights to bf16 for bf16
/// products (the VAE's published weights are f32), so that every Linear and convolution of the fast mode runs on tensor
/// cores. The bf16 values are those the CPU's bf16 path rounds the same weights to. FP8 weights stay as stored for bf16
/// products on GPUs with FP8 tensor cores (sm_89+), whose activations are then quantized to E4M3 too; cuBLASLt's
/// block-scaled FP4 GEMM (sm_100+) is not used yet.
/// </summary>
internal static unsafe class WeightExpansion
{
    /// <summary>Whether <paramref name="weight"/> stays FP8 on the device: bf16 products, FP8 tensor cores (compute capability
    /// 8.9 and later), and the 16-element multiples cuBLASLt's FP8 GEMM needs of both sides.</summary>
    public static bool KeepsFp8(LinearWeight weight, ComputePrecision precision, int computeCapability) =>
        weight.Format == WeightFormat.Fp8E4M3 && precision == ComputePrecision.BFloat16 && computeCapability >= 89
        && weight.InFeatures % 16 == 0 && weight.OutFeatures % 16 == 0;

    public static bool Expands(LinearWeight weight, ComputePrecision precision, int computeCapability) =>
        !KeepsFp8(weight, precision, computeCapability)
        && (weight.Format is WeightFormat.Fp8E4M3 or WeightFormat.Nvfp4 or WeightFormat.GgmlBlocks
            || precision == ComputePrecision.BFloat16 && weight.Format is WeightFormat.Float32 or WeightFormat.Float16);

    /// <summary>The format a weight is expanded to for <paramref name="precision"/>.</summary>
    public static WeightFormat Target(ComputePrecision precision) =>
        precision == ComputePrecision.BFloat16 ? WeightFormat.BFloat16 : WeightFormat.Float32;

    /// <summary>Rows [row0, row0 + rows) of <paramref name="stored"/> decoded to <paramref name="target"/> (BFloat16 or
    /// Float32) into <paramref name="destination"/>, row-major; <paramref name="decoded"/> holds one row of fp32.</summary>
    public static void ExpandRows(LinearWeight stored, int row0, int rows, WeightFormat target, byte* destination, float* decoded)
    {
        int k = stored.InFeatures;
        for (int r = 0; r < rows; r++)
        {
            if (target == WeightFormat.Float32)
            {
                WeightRowDecoder.Decode(stored, row0 + r, 0, k, (float*)destination + (long)r * k);
                continue;
            }
            WeightRowDecoder.Decode(stored, row0 + r, 0, k, decoded);
            ushort* row = (ushort*)destination + (long)r * k;
            for (int i = 0; i < k; i++) row[i] = BFloat16Bits.FromFloat(decoded[i]);
        }
    }
}
