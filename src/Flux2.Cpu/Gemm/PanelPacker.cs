using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flux2.Core;
using Flux2.Core.Decoding;

namespace Flux2.Cpu.Gemm;

/// <summary>Copies operands into the microkernel's panel layouts; weights are decoded from their stored format here,
/// one kc-long row segment at a time, so no full fp32 copy of W ever exists.</summary>
internal static unsafe class PanelPacker
{
    /// <summary>x[0 .. mc, 0 .. kc) → strips of <paramref name="mr"/> rows laid out [kc][mr]; rows past mc are zero.</summary>
    public static void PackActivations(float* x, int ldx, int mc, int kc, int mr, float* dst)
    {
        float** rows = stackalloc float*[mr];
        for (int i0 = 0; i0 < mc; i0 += mr, dst += (long)mr * kc)
        {
            int count = Math.Min(mr, mc - i0);
            for (int i = 0; i < count; i++) rows[i] = x + (long)(i0 + i) * ldx;
            Interleave(rows, count, mr, kc, dst);
        }
    }

    /// <summary>W[n0 .. n0+nc, k0 .. k0+kc) → strips of <paramref name="nr"/> weight rows laid out [kc][nr];
    /// rows past nc are zero. <paramref name="rowBuffers"/> holds nr rows of kc floats for decoded formats.</summary>
    public static void PackWeights(LinearWeight w, int n0, int nc, int k0, int kc, int nr, float* dst, float* rowBuffers)
    {
        float** rows = stackalloc float*[nr];
        for (int j0 = 0; j0 < nc; j0 += nr, dst += (long)nr * kc)
        {
            int count = Math.Min(nr, nc - j0);
            for (int r = 0; r < count; r++) rows[r] = DecodeRow(w, n0 + j0 + r, k0, kc, rowBuffers + (long)r * kc);
            Interleave(rows, count, nr, kc, dst);
        }
    }

    /// <summary>B[0 .. kc, 0 .. nc) (rows of stride <paramref name="ldb"/>) → strips of <paramref name="nr"/> columns laid out
    /// [kc][nr]: each strip row is a contiguous piece of a B row, so no transpose; columns past nc are zero.</summary>
    public static void PackDepthMajor(float* b, long ldb, int nc, int kc, int nr, float* dst)
    {
        for (int j0 = 0; j0 < nc; j0 += nr, dst += (long)nr * kc)
        {
            int count = Math.Min(nr, nc - j0);
            for (int p = 0; p < kc; p++)
            {
                var row = new Span<float>(dst + (long)p * nr, nr);
                new ReadOnlySpan<float>(b + p * ldb + j0, count).CopyTo(row);
                row[count..].Clear();
            }
        }
    }

    /// <summary>The fp32 values of W[row, k0 .. k0+count): read in place for fp32 weights, else decoded into buffer.</summary>
    public static float* DecodeRow(LinearWeight w, int row, int k0, int count, float* buffer)
    {
        if (w.Format == WeightFormat.Float32) return (float*)w.Data + (long)row * w.InFeatures + k0;
        WeightRowDecoder.Decode(w, row, k0, count, buffer);
        return buffer;
    }

    /// <summary>dst[p * width + i] = rows[i][p] for p &lt; kc, zero for rows count .. width: a transpose done in 16x16
    /// register blocks where AVX-512 exists (16 loads, 64 shuffles and 16 stores per 256 elements) and in 4x4 blocks
    /// otherwise (4 loads, 8 shuffles and 4 stores per 16). Moves 4-byte words, so it packs bf16 pairs as well as floats.</summary>
    internal static void Interleave(float** rows, int count, int width, int kc, float* dst)
    {
        int i0 = 0;
        if (Avx512F.IsSupported)
        {
            for (; i0 + 16 <= count; i0 += 16)
            {
                int p = 0;
                for (; p + 16 <= kc; p += 16) Transpose16x16(rows + i0, p, dst + (long)p * width + i0, width);
                for (int i = i0; i < i0 + 16; i += 4) InterleaveFour(rows + i, p, kc, dst + i, width);
            }
        }
        if (Sse.IsSupported)
        {
            for (; i0 + 4 <= count; i0 += 4) InterleaveFour(rows + i0, 0, kc, dst + i0, width);
        }
        for (int i = i0; i < width; i++)
        {
            float* d = dst + i;
            if (i < count)
            {
                float* src = rows[i];
                for (int p = 0; p < kc; p++) d[(long)p * width] = src[p];
            }
            else
            {
                for (int p = 0; p < kc; p++) d[(long)p * width] = 0;
            }
        }
    }

    /// <summary>Columns p0 .. kc of four rows into dst[p * width + 0 .. 4).</summary>
    private static void InterleaveFour(float** four, int p0, int kc, float* dst, int width)
    {
        float* r0 = four[0], r1 = four[1], r2 = four[2], r3 = four[3];
        float* d = dst + (long)p0 * width;
        int p = p0;
        for (; p + 4 <= kc; p += 4, d += 4 * width)
            Transpose4x4(Sse.LoadVector128(r0 + p), Sse.LoadVector128(r1 + p), Sse.LoadVector128(r2 + p), Sse.LoadVector128(r3 + p), d, width);
        for (; p < kc; p++, d += width)
        {
            d[0] = r0[p];
            d[1] = r1[p];
            d[2] = r2[p];
            d[3] = r3[p];
        }
    }

    /// <summary>Columns p .. p+16 of sixteen rows into d[q * width + 0 .. 16) for q &lt; 16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16x16(float** sixteen, int p, float* d, int width)
    {
        var (g00, g01, g02, g03) = TransposeLanes(sixteen, 0, p);
        var (g10, g11, g12, g13) = TransposeLanes(sixteen, 4, p);
        var (g20, g21, g22, g23) = TransposeLanes(sixteen, 8, p);
        var (g30, g31, g32, g33) = TransposeLanes(sixteen, 12, p);
        GatherLanes(g00, g10, g20, g30, d, width);
        GatherLanes(g01, g11, g21, g31, d + width, width);
        GatherLanes(g02, g12, g22, g32, d + 2 * width, width);
        GatherLanes(g03, g13, g23, g33, d + 3 * width, width);
    }

    /// <summary>Rows i .. i+4 at columns p .. p+16: result c holds, in 128-bit lane L, the four rows' column 4L + c.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) TransposeLanes(float** rows, int i, int p)
    {
        var a = Vector512.Load(rows[i] + p);
        var b = Vector512.Load(rows[i + 1] + p);
        var c = Vector512.Load(rows[i + 2] + p);
        var e = Vector512.Load(rows[i + 3] + p);
        var ab0 = Avx512F.UnpackLow(a, b).AsDouble();   // a0 b0 a1 b1 per lane
        var ab2 = Avx512F.UnpackHigh(a, b).AsDouble();  // a2 b2 a3 b3
        var ce0 = Avx512F.UnpackLow(c, e).AsDouble();
        var ce2 = Avx512F.UnpackHigh(c, e).AsDouble();
        return (Avx512F.UnpackLow(ab0, ce0).AsSingle(), Avx512F.UnpackHigh(ab0, ce0).AsSingle(),
            Avx512F.UnpackLow(ab2, ce2).AsSingle(), Avx512F.UnpackHigh(ab2, ce2).AsSingle());
    }

    /// <summary>From four row groups' column-c vectors (lane L = column 4L + c) the output rows of columns c, 4 + c, 8 + c and
    /// 12 + c, stored 4 rows of d apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GatherLanes(Vector512<float> u0, Vector512<float> u1, Vector512<float> u2, Vector512<float> u3, float* d, int width)
    {
        var even01 = Avx512F.Shuffle4x128(u0, u1, 0x88);  // u0.L0 u0.L2 u1.L0 u1.L2
        var odd01 = Avx512F.Shuffle4x128(u0, u1, 0xDD);   // u0.L1 u0.L3 u1.L1 u1.L3
        var even23 = Avx512F.Shuffle4x128(u2, u3, 0x88);
        var odd23 = Avx512F.Shuffle4x128(u2, u3, 0xDD);
        Avx512F.Shuffle4x128(even01, even23, 0x88).Store(d);
        Avx512F.Shuffle4x128(odd01, odd23, 0x88).Store(d + 4 * width);
        Avx512F.Shuffle4x128(even01, even23, 0xDD).Store(d + 8 * width);
        Avx512F.Shuffle4x128(odd01, odd23, 0xDD).Store(d + 12 * width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose4x4(Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3, float* d, int stride)
    {
        var t0 = Sse.UnpackLow(a0, a1);   // a0[0] a1[0] a0[1] a1[1]
        var t1 = Sse.UnpackLow(a2, a3);   // a2[0] a3[0] a2[1] a3[1]
        var t2 = Sse.UnpackHigh(a0, a1);  // a0[2] a1[2] a0[3] a1[3]
        var t3 = Sse.UnpackHigh(a2, a3);  // a2[2] a3[2] a2[3] a3[3]
        Sse.Store(d, Sse.MoveLowToHigh(t0, t1));
        Sse.Store(d + stride, Sse.MoveHighToLow(t1, t0));
        Sse.Store(d + 2 * stride, Sse.MoveLowToHigh(t2, t3));
        Sse.Store(d + 3 * stride, Sse.MoveHighToLow(t3, t2));
    }
}
