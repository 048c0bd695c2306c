using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flux2.Core.Gguf;

namespace Flux2.Core.Decoding;

/// <summary>
/// ggml's quantized blocks to fp32, value for value as ggml's <c>dequantize_row_*</c> computes them (the same products
/// and sums in the same order, none fused), so a GGUF weight decodes to the bits llama.cpp and ComfyUI-GGUF see.
/// A block holds 32 (Q4_0 … Q8_0) or 256 (the K-quants) consecutive elements of a row; each starts with or ends in
/// fp16 scales (layouts in ggml-common.h).
/// </summary>
public static unsafe class GgmlBlockDecoder
{
    /// <summary>Elements [<paramref name="first"/>, first + count) of a tensor of <paramref name="type"/> whose blocks start at
    /// <paramref name="data"/>, elements numbered in storage order (row-major, ggml's ne[0] fastest).</summary>
    public static void DecodeElements(GgmlType type, byte* data, long first, int count, float* dst)
    {
        if (!GgmlTypeInfo.TryGetLayout(type, out int blockElements, out int blockBytes) || blockElements == 1)
            throw new ArgumentException($"{GgmlTypeInfo.Name(type)} is not a block-quantized type this decoder reads", nameof(type));
        long block = first / blockElements;
        int skip = (int)(first % blockElements);
        float* partial = stackalloc float[256];
        while (count > 0)
        {
            byte* source = data + block * blockBytes;
            if (skip == 0 && count >= blockElements)
            {
                int whole = count / blockElements;
                DecodeBlocks(type, source, whole, dst);
                dst += (long)whole * blockElements;
                count -= whole * blockElements;
                block += whole;
                continue;
            }
            // A block cut by the range's start or end is decoded whole aside and the wanted part copied.
            DecodeBlocks(type, source, 1, partial);
            int take = Math.Min(blockElements - skip, count);
            new ReadOnlySpan<float>(partial + skip, take).CopyTo(new Span<float>(dst, take));
            dst += take;
            count -= take;
            skip = 0;
            block++;
        }
    }

    /// <summary>Decodes <paramref name="blocks"/> whole blocks into blocks × (32 or 256) floats: Q8_0, Q4_K and Q6_K (the types
    /// GGUF conversions use most) in 8-lane vectors where the processor has AVX2, every type else one value at a time.</summary>
    public static void DecodeBlocks(GgmlType type, byte* source, long blocks, float* dst)
    {
        if (Avx2.IsSupported && type is GgmlType.Q8_0 or GgmlType.Q4_K or GgmlType.Q6_K)
        {
            GgmlTypeInfo.TryGetLayout(type, out int elements, out int bytes);
            for (long b = 0; b < blocks; b++, source += bytes, dst += elements)
            {
                if (type == GgmlType.Q8_0) Q8_0Avx2(source, dst);
                else if (type == GgmlType.Q4_K) Q4_KAvx2(source, dst);
                else Q6_KAvx2(source, dst);
            }
            return;
        }
        DecodeBlocksScalar(type, source, blocks, dst);
    }

    /// <summary>The oracle: every type one value at a time, as ggml writes it.</summary>
    public static void DecodeBlocksScalar(GgmlType type, byte* source, long blocks, float* dst)
    {
        GgmlTypeInfo.TryGetLayout(type, out int elements, out int bytes);
        for (long b = 0; b < blocks; b++, source += bytes, dst += elements)
        {
            switch (type)
            {
                case GgmlType.Q4_0: Q4_0(source, dst); break;
                case GgmlType.Q4_1: Q4_1(source, dst); break;
                case GgmlType.Q5_0: Q5_0(source, dst); break;
                case GgmlType.Q5_1: Q5_1(source, dst); break;
                case GgmlType.Q8_0: Q8_0(source, dst); break;
                case GgmlType.Q2_K: Q2_K(source, dst); break;
                case GgmlType.Q3_K: Q3_K(source, dst); break;
                case GgmlType.Q4_K: Q4_K(source, dst); break;
                case GgmlType.Q5_K: Q5_K(source, dst); break;
                case GgmlType.Q6_K: Q6_K(source, dst); break;
                default: throw new ArgumentException($"{GgmlTypeInfo.Name(type)} is not a block-quantized type this decoder reads", nameof(type));
            }
        }
    }

    private static float Half(byte* p) => (float)BitConverter.UInt16BitsToHalf(*(ushort*)p);

    // { fp16 d; u8 qs[16] }: element j is the low nibble of qs[j], element j + 16 the high one, both minus 8.
    private static void Q4_0(byte* p, float* y)
    {
        float d = Half(p);
        byte* qs = p + 2;
        for (int j = 0; j < 16; j++)
        {
            y[j] = ((qs[j] & 0xF) - 8) * d;
            y[j + 16] = ((qs[j] >> 4) - 8) * d;
        }
    }

    // { fp16 d, m; u8 qs[16] }: q·d + m.
    private static void Q4_1(byte* p, float* y)
    {
        float d = Half(p), m = Half(p + 2);
        byte* qs = p + 4;
        for (int j = 0; j < 16; j++)
        {
            y[j] = (qs[j] & 0xF) * d + m;
            y[j + 16] = (qs[j] >> 4) * d + m;
        }
    }

    // { fp16 d; u32 qh; u8 qs[16] }: bit j of qh is element j's fifth bit, bit j + 16 element j + 16's; minus 16.
    private static void Q5_0(byte* p, float* y)
    {
        float d = Half(p);
        uint qh = *(uint*)(p + 2);
        byte* qs = p + 6;
        for (int j = 0; j < 16; j++)
        {
            int high0 = (int)((qh >> j) << 4) & 0x10, high1 = (int)(qh >> (j + 12)) & 0x10;
            y[j] = (((qs[j] & 0xF) | high0) - 16) * d;
            y[j + 16] = (((qs[j] >> 4) | high1) - 16) * d;
        }
    }

    // { fp16 d, m; u32 qh; u8 qs[16] }: as Q5_0 without the offset, q·d + m.
    private static void Q5_1(byte* p, float* y)
    {
        float d = Half(p), m = Half(p + 2);
        uint qh = *(uint*)(p + 4);
        byte* qs = p + 8;
        for (int j = 0; j < 16; j++)
        {
            int high0 = (int)((qh >> j) << 4) & 0x10, high1 = (int)(qh >> (j + 12)) & 0x10;
            y[j] = ((qs[j] & 0xF) | high0) * d + m;
            y[j + 16] = ((qs[j] >> 4) | high1) * d + m;
        }
    }

    // { fp16 d; i8 qs[32] }.
    private static void Q8_0(byte* p, float* y)
    {
        float d = Half(p);
        sbyte* qs = (sbyte*)(p + 2);
        for (int j = 0; j < 32; j++) y[j] = qs[j] * d;
    }

    // { u8 scales[16]; u8 qs[64]; fp16 d, dmin }: 16 groups of 16, each a 4-bit scale (low) and min (high);
    // 2-bit codes, four per byte, a byte's pairs of bits going to groups 32 elements apart.
    private static void Q2_K(byte* p, float* y)
    {
        byte* scales = p;
        byte* q = p + 16;
        float d = Half(p + 80), min = Half(p + 82);
        int group = 0;
        for (int n = 0; n < 256; n += 128, q += 32)
        {
            for (int shift = 0; shift < 8; shift += 2)
            {
                for (int half = 0; half < 32; half += 16)
                {
                    byte sc = scales[group++];
                    float dl = d * (sc & 0xF), ml = min * (sc >> 4);
                    for (int l = 0; l < 16; l++) *y++ = dl * ((q[l + half] >> shift) & 3) - ml;
                }
            }
        }
    }

    // { u8 hmask[32]; u8 qs[64]; u8 scales[12]; fp16 d }: 2 low bits as Q2_K, a high bit from hmask (clear means minus 4),
    // 16 signed 6-bit scales (minus 32) packed in 12 bytes.
    private static void Q3_K(byte* p, float* y)
    {
        byte* hm = p;
        byte* q = p + 32;
        float dAll = Half(p + 108);
        sbyte* scales = stackalloc sbyte[16];
        UnpackQ3Scales(p + 96, scales);
        int group = 0;
        byte mask = 1;
        for (int n = 0; n < 256; n += 128, q += 32)
        {
            for (int shift = 0; shift < 8; shift += 2, mask <<= 1)
            {
                for (int half = 0; half < 32; half += 16)
                {
                    float dl = dAll * (scales[group++] - 32);
                    for (int l = 0; l < 16; l++)
                        *y++ = dl * (((q[l + half] >> shift) & 3) - ((hm[l + half] & mask) != 0 ? 0 : 4));
                }
            }
        }
    }

    /// <summary>Scales 0–3 and 8–11 take their low 4 bits from the low nibbles of bytes 0–7, 4–7 and 12–15 from the high
    /// nibbles; bytes 8–11 hold the top 2 bits of all 16, two bits per scale.</summary>
    private static void UnpackQ3Scales(byte* packed, sbyte* scales)
    {
        for (int i = 0; i < 16; i++)
        {
            int low = i < 8 ? packed[i] & 0xF : packed[i - 8] >> 4;
            int high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
            scales[i] = (sbyte)(low | high << 4);
        }
    }

    // { fp16 d, dmin; u8 scales[12]; u8 qs[128] }: 8 groups of 32, each a 6-bit scale and min; a byte's low nibble
    // belongs to one group, its high nibble to the next.
    private static void Q4_K(byte* p, float* y)
    {
        float d = Half(p), min = Half(p + 2);
        byte* scales = p + 4;
        byte* q = p + 16;
        for (int group = 0; group < 8; group += 2, q += 32)
        {
            var (sc1, m1) = ScaleMinK4(group, scales);
            var (sc2, m2) = ScaleMinK4(group + 1, scales);
            float d1 = d * sc1, min1 = min * m1, d2 = d * sc2, min2 = min * m2;
            for (int l = 0; l < 32; l++) *y++ = d1 * (q[l] & 0xF) - min1;
            for (int l = 0; l < 32; l++) *y++ = d2 * (q[l] >> 4) - min2;
        }
    }

    // { fp16 d, dmin; u8 scales[12]; u8 qh[32]; u8 qs[128] }: Q4_K's nibbles plus a fifth bit per element from qh.
    private static void Q5_K(byte* p, float* y)
    {
        float d = Half(p), min = Half(p + 2);
        byte* scales = p + 4;
        byte* qh = p + 16;
        byte* ql = p + 48;
        int u1 = 1, u2 = 2;
        for (int group = 0; group < 8; group += 2, ql += 32, u1 <<= 2, u2 <<= 2)
        {
            var (sc1, m1) = ScaleMinK4(group, scales);
            var (sc2, m2) = ScaleMinK4(group + 1, scales);
            float d1 = d * sc1, min1 = min * m1, d2 = d * sc2, min2 = min * m2;
            for (int l = 0; l < 32; l++) *y++ = d1 * ((ql[l] & 0xF) + ((qh[l] & u1) != 0 ? 16 : 0)) - min1;
            for (int l = 0; l < 32; l++) *y++ = d2 * ((ql[l] >> 4) + ((qh[l] & u2) != 0 ? 16 : 0)) - min2;
        }
    }

    /// <summary>The 6-bit scale and min of group <paramref name="j"/> (0–7) from the K-quants' 12 packed bytes.</summary>
    private static (int Scale, int Min) ScaleMinK4(int j, byte* q) =>
        j < 4
            ? (q[j] & 63, q[j + 4] & 63)
            : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    // { u8 ql[128]; u8 qh[64]; i8 scales[16]; fp16 d }: 6-bit codes minus 32, low nibbles in ql, 2 high bits in qh;
    // 16 groups of 16 with signed 8-bit scales.
    private static void Q6_K(byte* p, float* y)
    {
        byte* ql = p;
        byte* qh = p + 128;
        sbyte* sc = (sbyte*)(p + 192);
        float d = Half(p + 208);
        for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
        {
            for (int l = 0; l < 32; l++)
            {
                int g = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[g] * q1;
                y[l + 32] = d * sc[g + 2] * q2;
                y[l + 64] = d * sc[g + 4] * q3;
                y[l + 96] = d * sc[g + 6] * q4;
            }
        }
    }

    // The vector forms: codes widened to int32 lanes (vpmovzxbd / vpmovsxbd), converted exactly to float, then the scalar
    // forms' product and difference, never fused, in the same order.

    private static void Q8_0Avx2(byte* p, float* y)
    {
        var d = Vector256.Create(Half(p));
        sbyte* qs = (sbyte*)(p + 2);
        for (int j = 0; j < 32; j += 8)
            (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(qs + j)) * d).Store(y + j);
    }

    private static void Q4_KAvx2(byte* p, float* y)
    {
        float d = Half(p), min = Half(p + 2);
        byte* scales = p + 4;
        byte* q = p + 16;
        byte* codes = stackalloc byte[64];
        var low = Vector256.Create((byte)0x0F);
        for (int group = 0; group < 8; group += 2, q += 32, y += 64)
        {
            var packed = Vector256.Load(q);
            (packed & low).Store(codes);
            (Vector256.ShiftRightLogical(packed.AsUInt16(), 4).AsByte() & low).Store(codes + 32);
            var (sc1, m1) = ScaleMinK4(group, scales);
            var (sc2, m2) = ScaleMinK4(group + 1, scales);
            ScaledCodes(codes, 32, d * sc1, min * m1, y);
            ScaledCodes(codes + 32, 32, d * sc2, min * m2, y + 32);
        }
    }

    /// <summary>y[i] = scale · code[i] − offset for <paramref name="count"/> (a multiple of 8) unsigned byte codes.</summary>
    private static void ScaledCodes(byte* codes, int count, float scale, float offset, float* y)
    {
        var s = Vector256.Create(scale);
        var o = Vector256.Create(offset);
        for (int i = 0; i < count; i += 8)
            (s * Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(codes + i)) - o).Store(y + i);
    }

    private static void Q6_KAvx2(byte* p, float* y)
    {
        byte* ql = p;
        byte* qh = p + 128;
        sbyte* sc = (sbyte*)(p + 192);
        float d = Half(p + 208);
        byte* codes = stackalloc byte[128];
        var low = Vector256.Create((byte)0x0F);
        var two = Vector256.Create((byte)0x03);
        var thirtyTwo = Vector256.Create(32);
        for (int n = 0; n < 256; n += 128, y += 128, ql += 64, qh += 32, sc += 8)
        {
            var l0 = Vector256.Load(ql);
            var l1 = Vector256.Load(ql + 32);
            var h = Vector256.Load(qh);
            // codes[32·j + l] is element l + 32·j: low nibbles of ql[l], ql[l + 32], then high nibbles; two bits of qh[l] each.
            ((l0 & low) | Vector256.ShiftLeft((h & two).AsUInt16(), 4).AsByte()).Store(codes);
            ((l1 & low) | Vector256.ShiftLeft((Vector256.ShiftRightLogical(h.AsUInt16(), 2).AsByte() & two).AsUInt16(), 4).AsByte()).Store(codes + 32);
            ((Vector256.ShiftRightLogical(l0.AsUInt16(), 4).AsByte() & low)
                | Vector256.ShiftLeft((Vector256.ShiftRightLogical(h.AsUInt16(), 4).AsByte() & two).AsUInt16(), 4).AsByte()).Store(codes + 64);
            ((Vector256.ShiftRightLogical(l1.AsUInt16(), 4).AsByte() & low)
                | Vector256.ShiftLeft((Vector256.ShiftRightLogical(h.AsUInt16(), 6).AsByte() & two).AsUInt16(), 4).AsByte()).Store(codes + 96);
            for (int i = 0; i < 128; i += 8)
            {
                // Element i (of this half) is in group (i / 32)·2 + (i % 32) / 16 of the eight scales.
                var scale = Vector256.Create(d * sc[i / 32 * 2 + i % 32 / 16]);
                var value = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(codes + i) - thirtyTwo);
                (scale * value).Store(y + i);
            }
        }
    }
}
