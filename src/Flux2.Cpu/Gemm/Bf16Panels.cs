using System.Runtime.Intrinsics;
using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Cpu.Gemm.Jit;

namespace Flux2.Cpu.Gemm;

/// <summary>
/// bf16 panels for <see cref="Bf16MicroKernel"/>: x rounded to bf16 (nearest even) while packing, W taken as stored when
/// it is bf16 and otherwise decoded and rounded; both as pairs along k (an odd kc gets a zero high half), products summed
/// in fp32. The reduced-precision path of <see cref="ComputePrecision.BFloat16"/>.
/// </summary>
internal readonly unsafe struct Bf16Panels(Bf16MicroKernel kernel) : IPanelFormat
{
    public int Rows => Bf16MicroKernel.Rows;
    public int Columns => Bf16MicroKernel.Columns;
    public int Depth(int kc) => (kc + 1) / 2;

    public void PackActivations(float* x, int ldx, int mc, int kc, float* dst) => PackRows(x, ldx, mc, kc, Rows, dst);

    /// <summary>x[0 .. count, 0 .. kc) rounded to bf16 pairs along k, in strips of <paramref name="width"/> rows each laid out
    /// [⌈kc/2⌉][width]; rows past count are zero.</summary>
    internal static void PackRows(float* x, long ldx, int count, int kc, int width, float* dst)
    {
        int pairs = (kc + 1) / 2;
        // Each row is converted to bf16 pairs in its own buffer, then the rows are interleaved 4 bytes at a time.
        float* buffer = GemmScratch.Current.ActivationRows.Get((long)width * pairs);
        float** rows = stackalloc float*[width];
        for (int i0 = 0; i0 < count; i0 += width, dst += (long)width * pairs)
        {
            int strip = Math.Min(width, count - i0);
            for (int i = 0; i < strip; i++)
            {
                rows[i] = buffer + (long)i * pairs;
                ToPairs(x + (i0 + i) * ldx, kc, (uint*)rows[i]);
            }
            PanelPacker.Interleave(rows, strip, width, pairs, dst);
        }
    }

    /// <summary>dst[c] = bf16(first[c]) | bf16(second[c]) &lt;&lt; 16 for c &lt; count (a multiple of 16): pairs across two rows,
    /// each column's pair along the rows' dimension; a null <paramref name="second"/> reads as zeros.</summary>
    internal static void PairRows(float* first, float* second, int count, uint* dst)
    {
        for (int c = 0; c < count; c += 16)
        {
            var low = Round(Vector512.Load(first + c)) >> 16;
            var high = second == null ? Vector512<uint>.Zero : Round(Vector512.Load(second + c));
            (low | high).Store(dst + c);
        }
    }

    public void PackWeights(LinearWeight w, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers)
    {
        int pairs = Depth(kc);
        // Stored bf16 pairs are already what the kernel reads; only their order changes.
        bool inPlace = w.Format == WeightFormat.BFloat16 && kc % 2 == 0 && k0 % 2 == 0;
        float** rows = stackalloc float*[Columns];
        for (int j0 = 0; j0 < nc; j0 += Columns, dst += (long)Columns * pairs)
        {
            int count = Math.Min(Columns, nc - j0);
            for (int r = 0; r < count; r++)
            {
                int row = n0 + j0 + r;
                if (inPlace)
                {
                    rows[r] = (float*)((ushort*)w.Data + (long)row * w.InFeatures + k0);
                    continue;
                }
                float* buffer = rowBuffers + (long)r * kc;
                float* values = PanelPacker.DecodeRow(w, row, k0, kc, buffer);
                ToPairs(values, kc, (uint*)buffer); // pair p is written over elements ≥ p, which are already read
                rows[r] = buffer;
            }
            PanelPacker.Interleave(rows, count, Columns, pairs, dst);
        }
    }

    public void PackDepthMajor(float* b, long ldb, int nc, int kc, float* dst)
    {
        int pairs = Depth(kc);
        for (int j0 = 0; j0 < nc; j0 += Columns, dst += (long)Columns * pairs)
        {
            int count = Math.Min(Columns, nc - j0);
            for (int p = 0; p < pairs; p++)
            {
                float* first = b + 2 * p * ldb + j0, second = 2 * p + 1 < kc ? first + ldb : null;
                uint* strip = (uint*)dst + (long)p * Columns;
                if (count == Columns)
                {
                    PairRows(first, second, Columns, strip);
                    continue;
                }
                for (int c = 0; c < Columns; c++)
                    strip[c] = c >= count ? 0 : BFloat16Bits.FromFloat(first[c]) | (uint)(second == null ? 0 : BFloat16Bits.FromFloat(second[c])) << 16;
            }
        }
    }

    public void Tile(int kc, float* a, float* b, float* c, nint ldc, bool accumulate) =>
        kernel.Run(Depth(kc), (uint*)a, Rows, (uint*)b, c, ldc, accumulate);

    /// <summary>values[0 .. count) rounded to bf16 (nearest even, NaN kept) as pairs, the even element in the low half (the order
    /// vdpbf16ps pairs them in); an odd count gets a zero high half. <paramref name="pairs"/> may overlap values from its start.</summary>
    private static void ToPairs(float* values, int count, uint* pairs)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i + 32 <= count; i += 32)
            {
                var low = Round(Vector512.Load(values + i));
                var high = Round(Vector512.Load(values + i + 16));
                Vector512.Narrow(Join(low), Join(high)).Store(pairs + i / 2);
            }
        }
        for (; i < count; i += 2)
            pairs[i / 2] = BFloat16Bits.FromFloat(values[i]) | (uint)(i + 1 < count ? BFloat16Bits.FromFloat(values[i + 1]) : 0) << 16;
    }

    /// <summary>Each lane rounded to bf16, the result in the lane's high 16 bits (the same rounding as <see cref="BFloat16Bits.FromFloat"/>).</summary>
    private static Vector512<uint> Round(Vector512<float> v)
    {
        var bits = v.AsUInt32();
        var rounded = bits + Vector512.Create(0x7FFFu) + ((bits >> 16) & Vector512<uint>.One);
        var quietNaN = bits | Vector512.Create(0x0040_0000u);
        return Vector512.ConditionalSelect(Vector512.Equals(v, v).AsUInt32(), rounded, quietNaN) & Vector512.Create(0xFFFF_0000u);
    }

    /// <summary>Every pair of 32-bit lanes (even, odd) as one 64-bit lane holding (even's high half) | (odd's high half) &lt;&lt; 16.</summary>
    private static Vector512<ulong> Join(Vector512<uint> rounded)
    {
        var pairs = rounded.AsUInt64();
        return ((pairs & Vector512.Create(0xFFFF_0000UL)) >> 16) | ((pairs >> 32) & Vector512.Create(0xFFFF_0000UL));
    }
}
