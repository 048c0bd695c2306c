using Flux2.Core.Numerics;

namespace Flux2.Core.Quantization;

/// <summary>One Linear quantized to NVFP4, in the stored (checkpoint) layout.</summary>
/// <param name="Weight">[N, K/2] bytes, element 2j in the high nibble of byte j</param>
/// <param name="Scales">E4M3 block scales [N, K/16], swizzled when <paramref name="Swizzled"/></param>
/// <param name="WeightScale2">the per-tensor scale</param>
public sealed record Nvfp4Quantized(byte[] Weight, byte[] Scales, bool Swizzled, float WeightScale2);

/// <summary>
/// The weight part of NVIDIA ModelOpt's NVFP4 recipe in fp32 (golden README §7.3): weight_scale_2 = amax/(6·448);
/// per 16-element block s = amax_b / (6·weight_scale_2) (1 for an all-zero block) stored as E4M3; codes =
/// E2M1(w / (E4M3(s)·weight_scale_2)).
/// </summary>
public static class Nvfp4Quantizer
{
    public const int BlockSize = 16;

    /// <param name="weights">W [rows, cols] row-major</param>
    /// <param name="name">names the tensor in error messages</param>
    public static Nvfp4Quantized Quantize(ReadOnlySpan<float> weights, int rows, int cols, string name)
    {
        CheckColumns(cols, name);
        if ((long)rows * cols != weights.Length) throw new ArgumentException($"{name}: expected {(long)rows * cols} values, got {weights.Length}");
        float weightScale2 = QuantizationMath.AbsMax(weights, name) / (E2M1.MaxValue * E4M3.MaxValue);
        int blocks = cols / BlockSize;
        var packed = new byte[(long)rows * cols / 2];
        var scales = new byte[(long)rows * blocks];
        float blockDivisor = E2M1.MaxValue * weightScale2;
        for (int n = 0; n < rows; n++)
        {
            for (int kb = 0; kb < blocks; kb++)
            {
                var block = weights.Slice(n * cols + kb * BlockSize, BlockSize);
                float blockMax = 0;
                foreach (var v in block) blockMax = MathF.Max(blockMax, MathF.Abs(v));
                byte scale = E4M3.Encode(blockMax == 0 ? 1f : blockMax / blockDivisor);
                scales[n * blocks + kb] = scale;
                float divisor = E4M3.Decode(scale) * weightScale2;
                int byteBase = (n * cols + kb * BlockSize) / 2;
                for (int i = 0; i < BlockSize; i += 2)
                {
                    // A zero divisor only happens for an all-zero tensor or a block whose scale underflows: it dequantizes to 0 anyway.
                    int hi = E2M1.Encode(divisor > 0 ? block[i] / divisor : 0f);
                    int lo = E2M1.Encode(divisor > 0 ? block[i + 1] / divisor : 0f);
                    packed[byteBase + i / 2] = (byte)(hi << 4 | lo);
                }
            }
        }
        bool swizzled = Nvfp4ScaleLayout.IsSwizzleable(rows, blocks);
        return new Nvfp4Quantized(packed, swizzled ? Nvfp4ScaleLayout.Swizzle(scales, rows, blocks) : scales, swizzled, weightScale2);
    }

    /// <summary>Rejects a width NVFP4 cannot store (lets a caller fail before any work).</summary>
    /// <exception cref="QuantizationException">the input features are not a multiple of <see cref="BlockSize"/></exception>
    public static void CheckColumns(long cols, string name)
    {
        if (cols % BlockSize != 0)
            throw new QuantizationException($"tensor '{name}': NVFP4 needs the input features ({cols}) to be a multiple of {BlockSize}");
    }
}
