using System.Runtime.Intrinsics;
using Flux2.Core.Backend;
using Flux2.Core.Numerics;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>
/// A 3×3 convolution with stride 1 and padding 1 (all of the VAE's but the encoder's downsamplers and the 1×1 shortcuts) in
/// bf16 products, without patches. For tap (ky, kx), the output pixels of row oy read input row oy + ky − 1 shifted by
/// kx − 1, so three shifted copies of each input row, converted once into panels of 32 pixels × bf16 pairs of channels
/// ([Cin/2][32], zero outside the image), are the <see cref="Bf16MicroKernel"/>'s B operand for every tap and output
/// channel; the weights, packed once per call per tap as strips of 12 output channels ([Cin/2][12]), are its A operand; and
/// its C tile, 12 channels × 32 pixels of y's NCHW rows, is summed over the nine taps and then added into y. The im2col product gathers and
/// packs nine values per input value for every call, and there each packed value serves only Cout products (128 in the
/// widest layers); here an input value is converted three times, and a packed panel serves all Cout channels while a
/// packed weight strip serves every pixel. Input rows are converted in bands that fit the convolution's chunk budget.
/// </summary>
internal sealed unsafe class DirectConvolution3x3
{
    private const int Rows = Bf16MicroKernel.Rows;
    private const int Columns = Bf16MicroKernel.Columns;
    private const int Taps = 9;

    private readonly PinnedScratch _panels = new();
    private readonly PinnedScratch _weights = new();

    /// <summary>Whether <paramref name="g"/> is a convolution this kernel computes.</summary>
    public static bool Applies(in Conv2dGeometry g) =>
        g.KernelSize == 3 && g.Stride == 1 && g.Padding == Conv2dPadding.All(1) && g.InChannels % 2 == 0;

    /// <summary>y[Cout, H, W] += conv(x[Cin, H, W]) for one image, with <paramref name="w"/> fp32 rows [Cout, Cin·9].</summary>
    public void Run(ComputePool pool, float* x, in Conv2dGeometry g, float* w, float* y, Bf16MicroKernel kernel)
    {
        int pairs = g.InChannels / 2, strips = (g.OutChannels + Rows - 1) / Rows, blocks = (g.Width + Columns - 1) / Columns;
        uint* packed = (uint*)_weights.Get((long)Taps * strips * pairs * Rows);
        pool.For(Taps * strips, new PackWeights { W = w, Depth = g.PatchLength, OutChannels = g.OutChannels, Pairs = pairs, Strips = strips, Packed = packed });

        // One input row's three shifted copies: 3 · blocks panels of pairs · 32 words.
        long rowWords = 3L * blocks * pairs * Columns;
        int bandRows = Math.Clamp((int)(Conv2dKernel.ChunkBudget / rowWords) - 2, 1, g.OutHeight);
        uint* panels = (uint*)_panels.Get((bandRows + 2) * rowWords);
        for (int oy0 = 0; oy0 < g.OutHeight; oy0 += bandRows)
        {
            int rows = Math.Min(bandRows, g.OutHeight - oy0);
            pool.For(rows + 2, new ConvertRow { X = x, G = g, FirstRow = oy0 - 1, Blocks = blocks, Pairs = pairs, Panels = panels });
            pool.For(rows, new OutputRow
            {
                Kernel = kernel, Panels = panels, Packed = packed, Y = y, G = g, FirstRow = oy0, Blocks = blocks, Pairs = pairs, Strips = strips,
            });
        }
    }

    /// <summary>Panel words of input row b of the band, block blk, shift kx: a block's three shifts lie back to back, as the
    /// weights of a kernel row's three taps do, so that one kernel call sums a row of taps.</summary>
    private static long PanelOffset(int b, int blk, int kx, int blocks, int pairs) => (((long)b * blocks + blk) * 3 + kx) * pairs * Columns;

    /// <summary>Output channels [12·s, 12·s + 12) and tap t as pairs of input channels, [Cin/2][12] (channels past Cout zero), in
    /// the order strip, tap.</summary>
    private struct PackWeights : IParallelWork
    {
        public float* W;
        public uint* Packed;
        public int Depth, OutChannels, Pairs, Strips;

        public readonly void Execute(int index)
        {
            int strip = index / Taps, tap = index % Taps;
            uint* dst = Packed + (long)index * Pairs * Rows;
            for (int i = 0; i < Rows; i++)
            {
                int co = strip * Rows + i;
                float* row = W + (long)co * Depth + tap;
                for (int p = 0; p < Pairs; p++)
                    dst[p * Rows + i] = co >= OutChannels ? 0
                        : BFloat16Bits.FromFloat(row[2 * p * Taps]) | (uint)BFloat16Bits.FromFloat(row[(2 * p + 1) * Taps]) << 16;
            }
        }
    }

    /// <summary>Input row FirstRow + b as its three shifted copies in 32-pixel panels of channel pairs, zero outside the image.</summary>
    private struct ConvertRow : IParallelWork
    {
        public float* X;
        public uint* Panels;
        public Conv2dGeometry G;
        public int FirstRow, Blocks, Pairs;

        public readonly void Execute(int b)
        {
            int iy = FirstRow + b, width = G.Width;
            for (int kx = 0; kx < 3; kx++)
            for (int blk = 0; blk < Blocks; blk++)
            {
                uint* panel = Panels + PanelOffset(b, blk, kx, Blocks, Pairs);
                if ((uint)iy >= (uint)G.Height)
                {
                    new Span<uint>(panel, Pairs * Columns).Clear();
                    continue;
                }
                int c0 = blk * Columns + kx - 1;
                for (int p = 0; p < Pairs; p++)
                {
                    float* first = X + (2L * p * G.Height + iy) * width, second = first + G.InPlane;
                    uint* dst = panel + p * Columns;
                    if (c0 >= 0 && c0 + Columns <= width)
                    {
                        Bf16Panels.PairRows(first + c0, second + c0, Columns, dst);
                        continue;
                    }
                    for (int j = 0; j < Columns; j++)
                    {
                        int c = c0 + j;
                        dst[j] = (uint)c >= (uint)width ? 0 : BFloat16Bits.FromFloat(first[c]) | (uint)BFloat16Bits.FromFloat(second[c]) << 16;
                    }
                }
            }
        }
    }

    /// <summary>Output row FirstRow + r, every channel: per 32-pixel block and 12-channel strip, the nine taps summed in a
    /// tile (three kernel calls, one per kernel row), then added into y. (Summed in y itself, the tile's rows, a power-of-two plane apart, share cache sets and were
    /// fetched again for every tap.)</summary>
    private struct OutputRow : IParallelWork
    {
        public Bf16MicroKernel Kernel;
        public uint* Panels, Packed;
        public float* Y;
        public Conv2dGeometry G;
        public int FirstRow, Blocks, Pairs, Strips;

        public readonly void Execute(int r)
        {
            ComputePool.ThrowIfCancelled();
            int width = G.OutWidth, oy = FirstRow + r, outChannels = G.OutChannels;
            long plane = G.OutPlane;
            float* tile = stackalloc float[Rows * Columns];
            for (int blk = 0; blk < Blocks; blk++)
            {
                int cols = Math.Min(Columns, width - blk * Columns);
                for (int strip = 0; strip < Strips; strip++)
                {
                    for (int ky = 0; ky < 3; ky++)
                    {
                        uint* a = Packed + (long)(strip * Taps + 3 * ky) * Pairs * Rows;
                        uint* b = Panels + PanelOffset(r + ky, blk, 0, Blocks, Pairs);
                        Kernel.Run(3 * Pairs, a, Rows, b, tile, Columns, accumulate: ky > 0);
                    }
                    int rows = Math.Min(Rows, outChannels - strip * Rows);
                    float* y = Y + strip * Rows * plane + (long)oy * width + blk * Columns;
                    for (int i = 0; i < rows; i++)
                    {
                        float* yRow = y + i * plane, tRow = tile + i * Columns;
                        int j = 0;
                        for (; j + 16 <= cols; j += 16) (Vector512.Load(yRow + j) + Vector512.Load(tRow + j)).Store(yRow + j);
                        for (; j < cols; j++) yRow[j] += tRow[j];
                    }
                }
            }
        }
    }
}
