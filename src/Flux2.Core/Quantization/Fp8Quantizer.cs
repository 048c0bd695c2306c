using Flux2.Core.Numerics;

namespace Flux2.Core.Quantization;

/// <summary>One Linear quantized to per-tensor FP8: E4M3 bytes [N, K] and the F32 weight_scale.</summary>
public sealed record Fp8Quantized(byte[] Weight, float WeightScale);

/// <summary>Per-tensor FP8 (golden README §7.3): weight_scale = amax/448, weight = E4M3(w / weight_scale).</summary>
public static class Fp8Quantizer
{
    /// <param name="name">names the tensor in error messages</param>
    public static Fp8Quantized Quantize(ReadOnlySpan<float> weights, string name)
    {
        float scale = QuantizationMath.AbsMax(weights, name) / E4M3.MaxValue;
        var bytes = new byte[weights.Length];
        // An all-zero tensor has scale 0: its bytes stay 0 (never NaN from 0/0).
        if (scale > 0)
            for (int i = 0; i < weights.Length; i++) bytes[i] = E4M3.Encode(weights[i] / scale);
        return new Fp8Quantized(bytes, scale);
    }
}
