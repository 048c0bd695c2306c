using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>
/// 2-D convolution as the product y[Cout, pixels] = W[Cout, Cin·k·k] · patches[Cin·k·k, pixels], which is the NCHW output's
/// own layout: y gets the bias first (added to it when accumulating) and every chunk of output pixels adds its product in
/// place, with no transpose. A chunk's patches are stored one row per (input channel, ky, kx), so gathering them is
/// contiguous copies of shifted image rows (a patch per pixel would be nine scattered floats per channel), and a 1×1
/// convolution without stride or padding multiplies the image itself. Chunking bounds the work memory (a whole-image
/// im2col at 1024² with 128 channels would be ~4.8 GB). One instance owns its scratch; calls must not overlap.
/// </summary>
public sealed unsafe class Conv2dKernel
{
    /// <summary>Upper bound, in floats, of a chunk's patches: 32 MB. The widest layers (4608 values per pixel) still get
    /// chunks of 1820 pixels, enough for a few threads' GEMM tasks to split the pixels rather than the weight's rows, so
    /// each task packs its patches once (16 MB chunks were 25 % slower on two cores).</summary>
    public const int ChunkBudget = 1 << 23;

    private const int ChannelsPerBiasItem = 8;

    private readonly PinnedScratch _patches = new();
    private readonly PinnedScratch _weight = new();

    /// <summary>Runs the convolution for one image: x [Cin, H, W] → y [Cout, Ho, Wo].</summary>
    /// <param name="bf16">the bf16 kernel when the products run in bf16, else null</param>
    internal void Run(ComputePool pool, float* x, in Conv2dGeometry g, LinearWeight weight, float* bias, float* y, bool accumulate,
        Gemm.Jit.Bf16MicroKernel? bf16 = null)
    {
        int patch = g.PatchLength, pixels = g.OutPlane, cout = g.OutChannels;
        pool.For((cout + ChannelsPerBiasItem - 1) / ChannelsPerBiasItem,
            new AddBias { Bias = bias, Y = y, OutChannels = cout, Plane = pixels, Accumulate = accumulate });
        if (patch == 0) return;
        float* w = Float32Weight(weight);
        if (g.KernelSize == 1 && g.Stride == 1 && g.Padding == Conv2dPadding.All(0))
        {
            Gemm.Gemm.MultiplyDepthMajor(w, cout, patch, x, g.InPlane, pixels, patch, y, pixels, true, pool, bf16);
            return;
        }
        int chunk = ChunkPixels(patch, pixels);
        float* patches = _patches.Get((long)chunk * patch);
        for (int first = 0; first < pixels; first += chunk)
        {
            int count = Math.Min(chunk, pixels - first);
            pool.For(g.InChannels, new GatherPatches { X = x, G = g, First = first, Count = count, Patches = patches });
            Gemm.Gemm.MultiplyDepthMajor(w, cout, patch, patches, count, count, patch, y + first, pixels, true, pool, bf16);
        }
    }

    /// <summary>Pixels per chunk: as many as fit the budget, at least one.</summary>
    public static int ChunkPixels(int patchLength, int pixels) =>
        Math.Clamp(ChunkBudget / Math.Max(1, patchLength), 1, Math.Max(1, pixels));

    /// <summary>The weight as fp32 rows [Cout, Cin·k·k]: in place when stored so, else decoded once per call (a fraction of
    /// the patches' size, which the product reads once per kc slice).</summary>
    private float* Float32Weight(LinearWeight weight)
    {
        int k = weight.InFeatures;
        if (weight.Format == WeightFormat.Float32) return (float*)weight.Data;
        float* decoded = _weight.Get((long)weight.OutFeatures * k);
        for (int row = 0; row < weight.OutFeatures; row++) PanelPacker.DecodeRow(weight, row, 0, k, decoded + (long)row * k);
        return decoded;
    }

    /// <summary>Patch rows of one input channel, (ky, kx) in the weight's element order: row (ci, ky, kx) holds x at
    /// (ci, oy·s + ky − top, ox·s + kx − left) for the chunk's pixels, zero where that leaves the image.</summary>
    private struct GatherPatches : IParallelWork
    {
        public float* X;
        public Conv2dGeometry G;
        public int First, Count;
        public float* Patches;

        public readonly void Execute(int ci)
        {
            int k = G.KernelSize;
            float* plane = X + (long)ci * G.InPlane;
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++)
                    GatherRow(plane, ky, kx, Patches + ((long)ci * k * k + ky * k + kx) * Count);
        }

        private readonly void GatherRow(float* plane, int ky, int kx, float* dst)
        {
            int outW = G.OutWidth, s = G.Stride, left = G.Padding.Left;
            // Output columns whose input column ox·s + kx − left is inside [0, W).
            int inside0 = Math.Max(0, DivideUp(left - kx, s)), inside1 = Math.Min(outW, DivideUp(G.Width + left - kx, s));
            for (int p = First, end = First + Count; p < end;)
            {
                int oy = p / outW, ox0 = p - oy * outW, ox1 = Math.Min(outW, ox0 + end - p);
                int iy = oy * s + ky - G.Padding.Top;
                var segment = new Span<float>(dst, ox1 - ox0);
                if ((uint)iy >= (uint)G.Height)
                {
                    segment.Clear();
                }
                else
                {
                    int lo = Math.Clamp(inside0, ox0, ox1), hi = Math.Clamp(inside1, lo, ox1);
                    segment[..(lo - ox0)].Clear();
                    segment[(hi - ox0)..].Clear();
                    float* src = plane + (long)iy * G.Width + kx - left;
                    if (s == 1) new ReadOnlySpan<float>(src + lo, hi - lo).CopyTo(segment[(lo - ox0)..]);
                    else for (int ox = lo; ox < hi; ox++) dst[ox - ox0] = src[ox * s];
                }
                dst += ox1 - ox0;
                p += ox1 - ox0;
            }
        }

        private static int DivideUp(int a, int b) => a <= 0 ? -(-a / b) : (a + b - 1) / b;
    }

    /// <summary>y[co, :] = bias[co] (+= when accumulating) for a block of 8 output channels.</summary>
    private struct AddBias : IParallelWork
    {
        public float* Bias, Y;
        public int OutChannels, Plane;
        public bool Accumulate;

        public readonly void Execute(int index)
        {
            int co1 = Math.Min(OutChannels, (index + 1) * ChannelsPerBiasItem);
            for (int co = index * ChannelsPerBiasItem; co < co1; co++)
            {
                var row = new Span<float>(Y + (long)co * Plane, Plane);
                if (!Accumulate)
                {
                    row.Fill(Bias[co]);
                    continue;
                }
                var b = new System.Numerics.Vector<float>(Bias[co]);
                int i = 0, width = System.Numerics.Vector<float>.Count;
                for (; i + width <= row.Length; i += width) (new System.Numerics.Vector<float>(row[i..]) + b).CopyTo(row[i..]);
                for (; i < row.Length; i++) row[i] += Bias[co];
            }
        }
    }
}
