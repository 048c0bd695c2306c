using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>
/// 2-D convolution as im2col + GEMM. Output pixels are processed in chunks: each chunk's patches are gathered
/// into a [pixels, Cin·k·k] matrix, multiplied by the weight viewed as a Linear [Cout, Cin·k·k] (decoded from
/// its stored format inside the GEMM), and the [pixels, Cout] product is transposed into the NCHW output with
/// the bias. Chunking bounds the work memory (a whole-image im2col at 1024² with 128 channels would be ~4.8 GB).
/// One instance owns its scratch; calls must not overlap.
/// </summary>
public sealed unsafe class Conv2dKernel
{
    /// <summary>Upper bound, in floats, of each of the two chunk buffers (patches and product): 8 MB.</summary>
    public const int ChunkBudget = 1 << 21;

    private const int PixelsPerGatherItem = 64;
    private const int ChannelsPerScatterItem = 8;

    private readonly PinnedScratch _patches = new();
    private readonly PinnedScratch _product = new();

    /// <summary>Runs the convolution for one image: x [Cin, H, W] → y [Cout, Ho, Wo].</summary>
    /// <param name="bf16">the bf16 kernel when the products run in bf16, else null</param>
    internal void Run(ComputePool pool, float* x, in Conv2dGeometry g, LinearWeight weight, float* bias, float* y, bool accumulate,
        Gemm.Jit.Bf16MicroKernel? bf16 = null)
    {
        int patch = g.PatchLength;
        int pixels = g.OutPlane;
        int chunk = ChunkPixels(patch, g.OutChannels, pixels);
        float* patches = _patches.Get((long)chunk * patch);
        float* product = _product.Get((long)chunk * g.OutChannels);
        for (int first = 0; first < pixels; first += chunk)
        {
            int count = Math.Min(chunk, pixels - first);
            pool.For((count + PixelsPerGatherItem - 1) / PixelsPerGatherItem,
                new GatherPatches { X = x, G = g, First = first, Count = count, Patches = patches });
            Gemm.Gemm.Multiply(patches, count, patch, weight, product, g.OutChannels, false, pool, bf16);
            pool.For((g.OutChannels + ChannelsPerScatterItem - 1) / ChannelsPerScatterItem,
                new ScatterProduct
                {
                    Product = product, Bias = bias, Y = y, OutChannels = g.OutChannels, Plane = pixels,
                    First = first, Count = count, Accumulate = accumulate,
                });
        }
    }

    /// <summary>Pixels per chunk: as many as fit the budget in both buffers, at least one.</summary>
    public static int ChunkPixels(int patchLength, int outChannels, int pixels) =>
        Math.Clamp(ChunkBudget / Math.Max(patchLength, outChannels), 1, Math.Max(1, pixels));

    /// <summary>Writes the im2col rows of output pixels [First + i·64, ...): row r holds x at (ci, ky, kx) in
    /// the weight's element order, zero where the window leaves the image.</summary>
    private struct GatherPatches : IParallelWork
    {
        public float* X;
        public Conv2dGeometry G;
        public int First, Count;
        public float* Patches;

        public readonly void Execute(int index)
        {
            int begin = index * PixelsPerGatherItem;
            int end = Math.Min(Count, begin + PixelsPerGatherItem);
            int k = G.KernelSize, outW = G.OutWidth;
            for (int r = begin; r < end; r++)
            {
                int p = First + r;
                int oy = p / outW, ox = p - oy * outW;
                int iy0 = oy * G.Stride - G.Padding.Top;
                int ix0 = ox * G.Stride - G.Padding.Left;
                float* dst = Patches + (long)r * G.PatchLength;
                bool inside = ix0 >= 0 && ix0 + k <= G.Width && iy0 >= 0 && iy0 + k <= G.Height;
                if (inside && k == 3) GatherInside3x3(X + (long)iy0 * G.Width + ix0, dst);
                else if (inside && k == 1) GatherInside1x1(X + (long)iy0 * G.Width + ix0, dst);
                else GatherBorder(iy0, ix0, dst);
            }
        }

        /// <summary>The common case, the whole 3×3 window inside the image: nine copies per channel, no checks.</summary>
        private readonly void GatherInside3x3(float* src, float* dst)
        {
            int w = G.Width;
            for (int ci = 0; ci < G.InChannels; ci++, src += G.InPlane, dst += 9)
            {
                float* r0 = src, r1 = src + w, r2 = src + 2 * w;
                dst[0] = r0[0]; dst[1] = r0[1]; dst[2] = r0[2];
                dst[3] = r1[0]; dst[4] = r1[1]; dst[5] = r1[2];
                dst[6] = r2[0]; dst[7] = r2[1]; dst[8] = r2[2];
            }
        }

        private readonly void GatherInside1x1(float* src, float* dst)
        {
            for (int ci = 0; ci < G.InChannels; ci++, src += G.InPlane) dst[ci] = *src;
        }

        /// <summary>A window that leaves the image: zero outside, any kernel size.</summary>
        private readonly void GatherBorder(int iy0, int ix0, float* dst)
        {
            int k = G.KernelSize, h = G.Height, w = G.Width;
            for (int ci = 0; ci < G.InChannels; ci++)
            {
                float* plane = X + (long)ci * G.InPlane;
                for (int ky = 0; ky < k; ky++, dst += k)
                {
                    int iy = iy0 + ky;
                    if ((uint)iy >= (uint)h)
                    {
                        new Span<float>(dst, k).Clear();
                        continue;
                    }
                    float* src = plane + (long)iy * w + ix0;
                    for (int kx = 0; kx < k; kx++) dst[kx] = (uint)(ix0 + kx) < (uint)w ? src[kx] : 0f;
                }
            }
        }
    }

    /// <summary>y[co, First + i] (+)= product[i, co] + bias[co] for a block of 8 output channels.</summary>
    private struct ScatterProduct : IParallelWork
    {
        public float* Product, Bias, Y;
        public int OutChannels, Plane, First, Count;
        public bool Accumulate;

        public readonly void Execute(int index)
        {
            int co0 = index * ChannelsPerScatterItem;
            int co1 = Math.Min(OutChannels, co0 + ChannelsPerScatterItem);
            for (int co = co0; co < co1; co++)
            {
                float b = Bias[co];
                float* src = Product + co;
                float* dst = Y + (long)co * Plane + First;
                if (Accumulate)
                    for (int i = 0; i < Count; i++) dst[i] += src[(long)i * OutChannels] + b;
                else
                    for (int i = 0; i < Count; i++) dst[i] = src[(long)i * OutChannels] + b;
            }
        }
    }
}
