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
        uint* d = (uint*)dst;
        for (int i0 = 0; i0 < mc; i0 += Rows, d += (long)Rows * pairs)
        {
            int count = Math.Min(Rows, mc - i0);
            for (int i = 0; i < Rows; i++)
            {
                uint* column = d + i;
                if (i >= count)
                {
                    for (int p = 0; p < pairs; p++) column[(long)p * Rows] = 0;
                    continue;
                }
                float* row = x + (long)(i0 + i) * ldx;
                for (int p = 0; p < pairs; p++)
                    column[(long)p * Rows] = Pair(row[2 * p], 2 * p + 1 < kc ? row[2 * p + 1] : 0f);
            }
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
                uint* packed = (uint*)buffer; // pair p is written over elements ≥ p, which are already read
                for (int p = 0; p < pairs; p++) packed[p] = Pair(values[2 * p], 2 * p + 1 < kc ? values[2 * p + 1] : 0f);
                rows[r] = buffer;
            }
            PanelPacker.Interleave(rows, count, Columns, pairs, dst);
        }
    }

    public void Tile(int kc, float* a, float* b, float* c, nint ldc, bool accumulate) =>
        kernel.Run(Depth(kc), (uint*)a, (uint*)b, c, ldc, accumulate);

    /// <summary>Two values rounded to bf16, the first in the low half (the order vdpbf16ps pairs them in).</summary>
    private static uint Pair(float even, float odd) => BFloat16Bits.FromFloat(even) | (uint)BFloat16Bits.FromFloat(odd) << 16;
}
