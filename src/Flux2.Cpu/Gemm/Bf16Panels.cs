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

    public void PackActivations(float* x, int ldx, int mc, int kc, float* dst)
    {
        int pairs = Depth(kc);
        // Each row is converted to bf16 pairs in its own buffer, then the rows are interleaved 4 bytes at a time.
        float* buffer = GemmScratch.Current.ActivationRows.Get((long)Rows * pairs);
        float** rows = stackalloc float*[Rows];
        for (int i0 = 0; i0 < mc; i0 += Rows, dst += (long)Rows * pairs)
        {
            int count = Math.Min(Rows, mc - i0);
            for (int i = 0; i < count; i++)
            {
                rows[i] = buffer + (long)i * pairs;
                ToPairs(x + (long)(i0 + i) * ldx, kc, (uint*)rows[i]);
            }
            PanelPacker.Interleave(rows, count, Rows, pairs, dst);
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

    public void Tile(int kc, float* a, float* b, float* c, nint ldc, bool accumulate) =>
        kernel.Run(Depth(kc), (uint*)a, (uint*)b, c, ldc, accumulate);

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
