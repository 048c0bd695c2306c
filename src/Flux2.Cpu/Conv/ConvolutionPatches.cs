using Flux2.Core.Backend;
using Flux2.Cpu.Gemm;

namespace Flux2.Cpu.Conv;

/// <summary>
/// A convolution's patches as the GEMM's second operand B [Cin·k·k, pixels], for the output pixels [first, first + count),
/// never stored whole: each task gathers its kc x nc block from the image into per-thread scratch right before packing it,
/// so the block is packed from cache instead of making a round trip through memory. Depth row (ci, ky, kx) of pixel
/// (oy, ox) is x at (ci, oy·s + ky − top, ox·s + kx − left), zero outside the image; a row's pixels are contiguous copies
/// of shifted image rows.
/// </summary>
internal readonly unsafe struct ConvolutionPatches(float* x, Conv2dGeometry g, int first, int count) : IColumnOperand
{
    /// <summary>Columns gathered and packed together: 256 x 384 floats, 384 KiB.</summary>
    private const int GroupColumns = 256;

    public int Count => count;
    public int Depth => g.PatchLength;

    public void Pack<TFormat>(in TFormat format, int n0, int nc, int k0, int kc, float* dst, float* rowBuffers)
        where TFormat : struct, IPanelFormat
    {
        int k = g.KernelSize, taps = k * k;
        // A group of whole column strips at a time, so that the gathered block stays in L2 while it is packed.
        int group = Math.Max(1, GroupColumns / format.Columns) * format.Columns;
        float* block = GemmScratch.Current.ColumnBlock.Get((long)kc * group);
        for (int j0 = 0; j0 < nc; j0 += group)
        {
            int width = Math.Min(group, nc - j0);
            for (int r = 0; r < kc; r++)
            {
                int row = k0 + r, ci = row / taps, tap = row - ci * taps;
                GatherRow(x + (long)ci * g.InPlane, tap / k, tap % k, first + n0 + j0, width, block + (long)r * width);
            }
            format.PackDepthMajor(block, width, width, kc, dst + (long)j0 * format.Depth(kc));
        }
    }

    /// <summary>Kernel offset (ky, kx) of one input channel's plane for output pixels [p0, p0 + n) into dst.</summary>
    private void GatherRow(float* plane, int ky, int kx, int p0, int n, float* dst)
    {
        int outW = g.OutWidth, s = g.Stride, left = g.Padding.Left;
        // Output columns whose input column ox·s + kx − left is inside [0, W).
        int inside0 = Math.Max(0, DivideUp(left - kx, s)), inside1 = Math.Min(outW, DivideUp(g.Width + left - kx, s));
        for (int p = p0, end = p0 + n; p < end;)
        {
            int oy = p / outW, ox0 = p - oy * outW, ox1 = Math.Min(outW, ox0 + end - p);
            int iy = oy * s + ky - g.Padding.Top;
            var segment = new Span<float>(dst, ox1 - ox0);
            if ((uint)iy >= (uint)g.Height)
            {
                segment.Clear();
            }
            else
            {
                int lo = Math.Clamp(inside0, ox0, ox1), hi = Math.Clamp(inside1, lo, ox1);
                segment[..(lo - ox0)].Clear();
                segment[(hi - ox0)..].Clear();
                float* src = plane + (long)iy * g.Width + kx - left;
                if (s == 1) new ReadOnlySpan<float>(src + lo, hi - lo).CopyTo(segment[(lo - ox0)..]);
                else for (int ox = lo; ox < hi; ox++) dst[ox - ox0] = src[ox * s];
            }
            dst += ox1 - ox0;
            p += ox1 - ox0;
        }
    }

    private static int DivideUp(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;
}
