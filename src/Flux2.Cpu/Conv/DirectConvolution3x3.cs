using System.Runtime.Intrinsics;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>
/// A 3×3 convolution with stride 1 and padding 1 (all of the VAE's but the encoder's downsamplers and the 1×1 shortcuts)
/// without patches, on any GEMM panel format. For tap (ky, kx), the output pixels of row oy read input row oy + ky − 1
/// shifted by kx − 1, so three shifted copies of each input row, packed once into panels of <see cref="IPanelFormat.Columns"/>
/// pixels × the input channels (zero outside the image), are the microkernel's B operand for every output channel; the
/// weights, packed once per call as strips of <see cref="IPanelFormat.Rows"/> output channels, are its A operand; and its
/// tile is that many output channels' NCHW rows. A kernel row's three taps lie back to back in both operands, so one
/// kernel call sums them; the three calls of a tile sum in a stack tile, which is then added into y (summed in y itself,
/// the tile's rows, a plane apart and so a power of two at the VAE's sizes, shared cache sets and were fetched again for
/// every tap). The im2col
/// product gathers and packs nine values per input value for every call, and each packed one serves only Cout products
/// (its rows are the output channels); here an input value is packed three times, a packed panel serves all Cout channels
/// and a packed weight every pixel. Input rows are packed in bands that fit the convolution's chunk budget.
/// </summary>
internal sealed unsafe class DirectConvolution3x3
{
    private const int Taps = 9;
    /// <summary>Output-channel strips one weight-packing item packs (3 kernel rows alone left a thread idle).</summary>
    private const int StripsPerPackItem = 4;

    private readonly PinnedScratch _panels = new();
    private readonly PinnedScratch _weights = new();

    /// <summary>Whether <paramref name="format"/> computes <paramref name="g"/> this way: a 3×3 convolution with stride 1 and
    /// padding 1 whose input channels fill whole packed words (bf16 pairs need an even count).</summary>
    public static bool Applies<TFormat>(in TFormat format, in Conv2dGeometry g) where TFormat : struct, IPanelFormat =>
        g.KernelSize == 3 && g.Stride == 1 && g.Padding == Conv2dPadding.All(1) && format.Depth(3 * g.InChannels) == 3 * format.Depth(g.InChannels);

    /// <summary>y[Cout, H, W] += conv(x[Cin, H, W]) for one image, with <paramref name="w"/> fp32 rows [Cout, Cin·9].</summary>
    public void Run<TFormat>(ComputePool pool, in TFormat format, float* x, in Conv2dGeometry g, float* w, float* y) where TFormat : struct, IPanelFormat
    {
        int cin = g.InChannels, rows = format.Rows, columns = format.Columns;
        int strips = (g.OutChannels + rows - 1) / rows, blocks = (g.Width + columns - 1) / columns;
        long kernelRowWords = (long)strips * rows * format.Depth(3 * cin), panelWords = (long)format.Depth(cin) * columns;

        // Per kernel row ky, the weights [Cout][3·Cin] (its three taps' channels side by side), packed as A strips.
        float* packed = _weights.Get(3 * kernelRowWords);
        int chunks = (strips + StripsPerPackItem - 1) / StripsPerPackItem;
        pool.For(3 * chunks, new PackWeights<TFormat>
        {
            Format = format, W = w, Cin = cin, OutChannels = g.OutChannels, Chunks = chunks, Packed = packed, KernelRowWords = kernelRowWords,
        });

        long inputRowWords = 3L * blocks * panelWords;
        int bandRows = Math.Clamp((int)(Conv2dKernel.ChunkBudget / inputRowWords) - 2, 1, g.OutHeight);
        float* panels = _panels.Get((bandRows + 2) * inputRowWords);
        for (int oy0 = 0; oy0 < g.OutHeight; oy0 += bandRows)
        {
            int count = Math.Min(bandRows, g.OutHeight - oy0);
            pool.For(count + 2, new PackInputRow<TFormat>
            {
                Format = format, X = x, G = g, FirstRow = oy0 - 1, Blocks = blocks, PanelWords = panelWords, Panels = panels,
            });
            pool.For(count, new OutputRow<TFormat>
            {
                Format = format, Panels = panels, Packed = packed, Y = y, G = g, FirstRow = oy0, Blocks = blocks, Strips = strips,
                PanelWords = panelWords, KernelRowWords = kernelRowWords,
            });
        }
    }

    /// <summary>Kernel row ky's weights for a chunk of strips: W[co][ci][ky][kx] → [co][kx·Cin + ci], then packed into strips
    /// of output channels.</summary>
    private struct PackWeights<TFormat> : IParallelWork where TFormat : struct, IPanelFormat
    {
        public TFormat Format;
        public float* W, Packed;
        public int Cin, OutChannels, Chunks;
        public long KernelRowWords;

        public readonly void Execute(int index)
        {
            int ky = index / Chunks, depth = 3 * Cin, rows = Format.Rows;
            // One strip's channels at a time through a buffer that stays in cache.
            float* buffer = GemmScratch.Current.ColumnBlock.Get((long)rows * depth);
            int co1 = Math.Min(OutChannels, (index % Chunks + 1) * StripsPerPackItem * rows);
            for (int c0 = index % Chunks * StripsPerPackItem * rows; c0 < co1; c0 += rows)
            {
                int count = Math.Min(rows, OutChannels - c0);
                for (int i = 0; i < count; i++)
                {
                    float* src = W + (long)(c0 + i) * Cin * Taps + 3 * ky, dst = buffer + (long)i * depth;
                    for (int kx = 0; kx < 3; kx++)
                    for (int ci = 0; ci < Cin; ci++)
                        dst[kx * Cin + ci] = src[ci * Taps + kx];
                }
                Format.PackActivations(buffer, depth, count, depth, Packed + ky * KernelRowWords + (long)c0 * Format.Depth(depth));
            }
        }
    }

    /// <summary>Input row FirstRow + b's three shifted copies, block by block, as B panels [Cin][Columns] (zero outside the image;
    /// a block over an edge is staged with its zeros first).</summary>
    private struct PackInputRow<TFormat> : IParallelWork where TFormat : struct, IPanelFormat
    {
        public TFormat Format;
        public float* X, Panels;
        public Conv2dGeometry G;
        public int FirstRow, Blocks;
        public long PanelWords;

        public readonly void Execute(int b)
        {
            int iy = FirstRow + b, width = G.Width, columns = Format.Columns, cin = G.InChannels;
            float* row = Panels + (long)b * Blocks * 3 * PanelWords;
            if ((uint)iy >= (uint)G.Height)
            {
                new Span<float>(row, checked((int)(Blocks * 3 * PanelWords))).Clear();
                return;
            }
            float* image = X + (long)iy * width;
            for (int blk = 0; blk < Blocks; blk++)
            for (int kx = 0; kx < 3; kx++)
            {
                float* dst = row + (blk * 3L + kx) * PanelWords;
                int c0 = blk * columns + kx - 1;
                if (c0 >= 0 && c0 + columns <= width)
                {
                    Format.PackDepthMajor(image + c0, G.InPlane, columns, cin, dst);
                    continue;
                }
                float* stage = GemmScratch.Current.ColumnBlock.Get((long)cin * columns);
                for (int ci = 0; ci < cin; ci++)
                for (int j = 0; j < columns; j++)
                {
                    int c = c0 + j;
                    stage[ci * columns + j] = (uint)c < (uint)width ? image[(long)ci * G.InPlane + c] : 0;
                }
                Format.PackDepthMajor(stage, columns, columns, cin, dst);
            }
        }
    }

    /// <summary>Output row FirstRow + r, every channel: per block and strip of output channels, the nine taps summed in a
    /// tile (one kernel call per kernel row), then added into y.</summary>
    private struct OutputRow<TFormat> : IParallelWork where TFormat : struct, IPanelFormat
    {
        public TFormat Format;
        public float* Panels, Packed, Y;
        public Conv2dGeometry G;
        public int FirstRow, Blocks, Strips;
        public long PanelWords, KernelRowWords;

        public readonly void Execute(int r)
        {
            ComputePool.ThrowIfCancelled();
            int width = G.OutWidth, oy = FirstRow + r, outChannels = G.OutChannels, rows = Format.Rows, columns = Format.Columns;
            int depth = 3 * G.InChannels;
            long plane = G.OutPlane, strip = (long)rows * Format.Depth(depth);
            float* tile = stackalloc float[rows * columns];
            for (int blk = 0; blk < Blocks; blk++)
            {
                int cols = Math.Min(columns, width - blk * columns);
                for (int s = 0; s < Strips; s++)
                {
                    for (int ky = 0; ky < 3; ky++)
                    {
                        float* a = Packed + ky * KernelRowWords + s * strip;
                        float* b = Panels + ((long)(r + ky) * Blocks + blk) * 3 * PanelWords;
                        Format.Tile(depth, a, b, tile, columns, accumulate: ky > 0);
                    }
                    int valid = Math.Min(rows, outChannels - s * rows);
                    float* y = Y + s * rows * plane + (long)oy * width + blk * columns;
                    for (int i = 0; i < valid; i++)
                    {
                        float* yRow = y + i * plane, tRow = tile + i * columns;
                        int j = 0;
                        for (; j + Vector256<float>.Count <= cols; j += Vector256<float>.Count)
                            (Vector256.Load(yRow + j) + Vector256.Load(tRow + j)).Store(yRow + j);
                        for (; j < cols; j++) yRow[j] += tRow[j];
                    }
                }
            }
        }
    }
}
