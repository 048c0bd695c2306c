using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>
/// 2-D convolution as the product y[Cout, pixels] = W[Cout, Cin·k·k] · patches[Cin·k·k, pixels], which is the NCHW output's
/// own layout: y gets the bias first (added to it when accumulating) and every chunk of output pixels adds its product in
/// place, with no transpose. The patches are never stored: each GEMM task gathers the block it packs straight from the
/// image (<see cref="ConvolutionPatches"/>; a stored chunk of them made a round trip through memory, and the decoder ran
/// 18–24 % slower), and a 1×1 convolution without stride or padding multiplies the image itself; a 3×3 convolution with
/// stride 1 and padding 1 takes no patches (<see cref="DirectConvolution3x3"/>). Chunks of output pixels
/// keep the output block a kc slice revisits in cache. One instance owns its scratch; calls must not overlap.
/// </summary>
public sealed unsafe class Conv2dKernel
{
    /// <summary>Patch values (pixels × Cin·k·k) per chunk of output pixels: the widest layers (4608 values per pixel) get
    /// chunks of 1820 pixels, enough for a few threads' GEMM tasks to split the pixels rather than the weight's rows, which
    /// each chunk packs again (a 512² decode on two cores with half the budget took 15.3 s against 10.6 s, with twice it
    /// 11.8 s, one run each).</summary>
    public const int ChunkBudget = 1 << 23;

    private const int ChannelsPerBiasItem = 8;

    private readonly PinnedScratch _weight = new();
    private readonly DirectConvolution3x3 _direct = new();

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
        if (bf16 != null ? RunDirect(pool, new Bf16Panels(bf16), x, g, w, y) : RunDirect(pool, new Float32Panels(GemmKernel.Best), x, g, w, y)) return;
        if (g.KernelSize == 1 && g.Stride == 1 && g.Padding == Conv2dPadding.All(0))
        {
            Gemm.Gemm.MultiplyDepthMajor(w, cout, patch, x, g.InPlane, pixels, patch, y, pixels, true, pool, bf16);
            return;
        }
        int chunk = ChunkPixels(patch, pixels);
        for (int first = 0; first < pixels; first += chunk)
        {
            int count = Math.Min(chunk, pixels - first);
            Gemm.Gemm.MultiplyColumns(w, cout, patch, new ConvolutionPatches(x, g, first, count), y + first, pixels, true, pool, bf16);
        }
    }

    /// <summary>The convolution without patches where <paramref name="format"/> can compute it that way; false otherwise.</summary>
    private bool RunDirect<TFormat>(ComputePool pool, in TFormat format, float* x, in Conv2dGeometry g, float* w, float* y)
        where TFormat : struct, IPanelFormat
    {
        if (!DirectConvolution3x3.Applies(format, g)) return false;
        _direct.Run(pool, format, x, g, w, y);
        return true;
    }

    /// <summary>Pixels per chunk: as many as fit the budget, at least one.</summary>
    public static int ChunkPixels(int patchLength, int pixels) =>
        Math.Clamp(ChunkBudget / Math.Max(1, patchLength), 1, Math.Max(1, pixels));

    /// <summary>The weight as fp32 rows [Cout, Cin·k·k]: in place when stored so, else decoded once per call (a fraction of
    /// the work, which the product reads once per kc slice).</summary>
    private float* Float32Weight(LinearWeight weight)
    {
        int k = weight.InFeatures;
        if (weight.Format == WeightFormat.Float32) return (float*)weight.Data;
        float* decoded = _weight.Get((long)weight.OutFeatures * k);
        for (int row = 0; row < weight.OutFeatures; row++) PanelPacker.DecodeRow(weight, row, 0, k, decoded + (long)row * k);
        return decoded;
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
