using Flux2.Core.Numerics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flux2.Core;
using Flux2.Core.Quantization;

namespace Flux2.Core.Decoding;

/// <summary>
/// NVFP4 row segments to fp32: W[row, k] = (E2M1(code) · E4M3(S[row, k/16])) · TensorScale, the first product
/// exact, the tensor scale applied last, so the result is bit-exact with the reference dequantisation.
/// Element k is the high nibble of byte k/2 when k is even. Scales are read through the stored layout
/// (swizzled or plain), so nothing is de-interleaved at load.
/// </summary>
public static unsafe class Nvfp4RowDecoder
{
    private const int Block = Nvfp4Quantizer.BlockSize;

    public static void Decode(LinearWeight w, int row, int k0, int count, float* dst)
    {
        if (!Avx2.IsSupported)
        {
            DecodeScalar(w, row, k0, count, dst);
            return;
        }
        int end = k0 + count;
        // Ragged head and tail (not whole 16-element blocks) go through the scalar path.
        int first = Math.Min(end, (k0 + Block - 1) / Block * Block);
        int last = Math.Max(first, end / Block * Block);
        DecodeScalar(w, row, k0, first - k0, dst);
        DecodeBlocksAvx2(w, row, first / Block, (last - first) / Block, dst + (first - k0));
        DecodeScalar(w, row, last, end - last, dst + (last - k0));
    }

    /// <summary>The oracle: one element at a time, any k0 and count.</summary>
    public static void DecodeScalar(LinearWeight w, int row, int k0, int count, float* dst)
    {
        byte* codes = (byte*)w.Data + (long)row * (w.InFeatures / 2);
        byte* scales = (byte*)w.BlockScales + Nvfp4ScaleLayout.RowOffset(row, w.ScaleColumns, w.ScalesSwizzled);
        for (int i = 0; i < count; i++)
        {
            int k = k0 + i;
            byte packed = codes[k >> 1];
            int code = (k & 1) == 0 ? packed >> 4 : packed & 0xF;
            float scale = E4M3.Decode(scales[Nvfp4ScaleLayout.BlockOffset(k / Block, w.ScalesSwizzled)]);
            dst[i] = E2M1.Decode(code) * scale * w.TensorScale;
        }
    }

    /// <summary>Whole blocks kb0 .. kb0+blocks: unpack 8 bytes to 16 codes, look the magnitudes up in the block's
    /// scaled 8-entry table (vpermps uses the low 3 bits of each code) and flip the sign by bit 3 (xor, so a negative block scale also works).</summary>
    private static void DecodeBlocksAvx2(LinearWeight w, int row, int kb0, int blocks, float* dst)
    {
        byte* codes = (byte*)w.Data + (long)row * (w.InFeatures / 2) + kb0 * (Block / 2);
        byte* scales = (byte*)w.BlockScales + Nvfp4ScaleLayout.RowOffset(row, w.ScaleColumns, w.ScalesSwizzled);
        var magnitudes = Vector256.Create(0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f);
        var tensorScale = Vector256.Create(w.TensorScale);
        var lowNibble = Vector128.Create((byte)0x0F);
        var signBit = Vector256.Create(int.MinValue);
        for (int b = 0; b < blocks; b++, codes += Block / 2, dst += Block)
        {
            float scale = E4M3.Decode(scales[Nvfp4ScaleLayout.BlockOffset(kb0 + b, w.ScalesSwizzled)]);
            Vector256<float> table = magnitudes * scale;
            Vector128<byte> raw = Vector128.CreateScalar(*(ulong*)codes).AsByte();
            Vector128<byte> high = Sse2.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & lowNibble;
            Vector128<byte> ordered = Sse2.UnpackLow(high, raw & lowNibble);
            Vector256<int> c0 = Avx2.ConvertToVector256Int32(ordered);
            Vector256<int> c1 = Avx2.ConvertToVector256Int32(Sse2.ShiftRightLogical128BitLane(ordered, 8));
            Vector256<float> v0 = Avx2.PermuteVar8x32(table, c0) ^ (Avx2.ShiftLeftLogical(c0, 28) & signBit).AsSingle();
            Vector256<float> v1 = Avx2.PermuteVar8x32(table, c1) ^ (Avx2.ShiftLeftLogical(c1, 28) & signBit).AsSingle();
            (v0 * tensorScale).Store(dst);
            (v1 * tensorScale).Store(dst + 8);
        }
    }
}
