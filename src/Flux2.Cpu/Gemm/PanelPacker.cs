using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Flux2.Core;

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

    /// <summary>The fp32 values of W[row, k0 .. k0+count): read in place for fp32 weights, else decoded into buffer.</summary>
    public static float* DecodeRow(LinearWeight w, int row, int k0, int count, float* buffer)
    {
        if (w.Format == WeightFormat.Float32) return (float*)w.Data + (long)row * w.InFeatures + k0;
        WeightRowDecoder.Decode(w, row, k0, count, buffer);
        return buffer;
    }

    /// <summary>dst[p * width + i] = rows[i][p] for p &lt; kc, zero for rows count .. width: a transpose done in
    /// 4x4 register blocks, so each 16 elements cost 4 loads, 8 shuffles and 4 stores. Moves 4-byte words, so it packs
    /// bf16 pairs as well as floats.</summary>
    internal static void Interleave(float** rows, int count, int width, int kc, float* dst)
    {
        int i0 = 0;
        if (Sse.IsSupported)
        {
            for (; i0 + 4 <= count; i0 += 4)
            {
                float* r0 = rows[i0], r1 = rows[i0 + 1], r2 = rows[i0 + 2], r3 = rows[i0 + 3];
                float* d = dst + i0;
                int p = 0;
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
