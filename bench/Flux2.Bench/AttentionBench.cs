using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;
using Flux2.Cpu.Threading;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// GFLOP/s of the CPU backend's attention on the transformer's shapes (klein-4B: 24 heads × 128, joint sequence of 512 text
/// tokens plus the image's: L = 768, 1536, 5120 for 256², 512², 1024²) and of the text encoder's causal GQA attention
/// (Qwen3-4B: 32 query and 8 KV heads × 128, 512 tokens), next to the GEMM rate on a Linear of the same step in the same run
/// (the yardstick: attention at ≥ 80 % of it). FLOPs: 4·L²·d per head (Q·Kᵀ and P·V), half of that when causal.
/// Options: --lengths 768,1536,5120 (default), --reps R (default 3), --threads T (default: all processors), --precision fp32|bf16
/// (the products of both the attention and the GEMM yardstick; default fp32), --device cpu|cuda[:N] (on a GPU the operands
/// are in its activation type, and a call is timed until the GPU has finished it).
/// </summary>
internal static unsafe class AttentionBench
{
    private const int Heads = 24, HeadDim = 128, Width = Heads * HeadDim;

    public static int Run(string[] args)
    {
        int[] lengths = (Option(args, "--lengths") ?? "768,1536,5120").Split(',').Select(int.Parse).ToArray();
        int reps = int.Parse(Option(args, "--reps") ?? "3");
        using var backend = Backend(args);
        Console.WriteLine($"{backend.Name}; best of {reps}");
        Console.WriteLine($"{"what",-34} {"GFLOP/s",8} {"of GEMM",8}");
        foreach (int l in lengths)
        {
            double gemm = GemmRate(backend, l, reps);
            using var qkv = RandomTensor(backend, [1, l, 3 * Width], 1);
            using var output = backend.Allocate(backend.ActivationDType, 1, l, Width);
            double flops = 4.0 * l * l * HeadDim * Heads;
            double best = Best(backend, reps, () => backend.Attention(qkv, 0, qkv, Width, qkv, 2 * Width, output, 0, Heads, HeadDim, 1 / MathF.Sqrt(HeadDim)));
            Console.WriteLine($"{$"GEMM {l}x3072 · 3072x9216",-34} {gemm,8:F1}");
            Console.WriteLine($"{$"attention L={l}, 24x128",-34} {flops / best * 1e-9,8:F1} {flops / best * 1e-9 / gemm,8:P0}");
        }

        const int length = 512, qHeads = 32, kvHeads = 8;
        using var q = RandomTensor(backend, [1, length, qHeads, HeadDim], 2);
        using var k = RandomTensor(backend, [1, length, kvHeads, HeadDim], 3);
        using var v = RandomTensor(backend, [1, length, kvHeads, HeadDim], 4);
        using var o = backend.Allocate(backend.ActivationDType, 1, length, qHeads, HeadDim);
        using var mask = backend.Upload<long>(Enumerable.Range(0, length).Select(i => i < 300 ? 1L : 0L).ToArray(), 1, length);
        double causal = 2.0 * length * length * HeadDim * qHeads;
        double t = Best(backend, reps, () => backend.CausalMaskedAttention(q, k, v, mask, o, FullyMaskedRows.Zero));
        Console.WriteLine($"{"causal GQA L=512, 32/8x128",-34} {causal / t * 1e-9,8:F1} {causal / t * 1e-9 / GemmRate(backend, length, reps),8:P0}");
        return 0;
    }

    /// <summary>GFLOP/s of the step's qkv-sized Linear (bf16 weights, the model's path) at <paramref name="rows"/> rows.</summary>
    private static double GemmRate(IBackend backend, int rows, int reps)
    {
        const int k = 3072, n = 9216;
        using var x = RandomTensor(backend, [rows, k], 5);
        using var y = backend.Allocate(backend.ActivationDType, rows, n);
        var w = new ushort[(long)n * k];
        var rng = new Random(6);
        for (int i = 0; i < w.Length; i++) w[i] = Flux2.Core.Numerics.BFloat16Bits.FromFloat(rng.NextSingle() - 0.5f);
        fixed (ushort* p = w)
        {
            using var weight = backend.LoadLinear(new LinearWeight("bench.qkv", n, k, WeightFormat.BFloat16, (nint)p));
            return 2.0 * rows * k * n / Best(backend, reps, () => backend.Linear(x, weight, y)) * 1e-9;
        }
    }

    private static double Best(IBackend backend, int reps, Action run)
    {
        // Warm-up: scratch buffers, first touch (kernel compilation on a GPU), and a second of calls, so that tiered
        // compilation has replaced the first (unoptimized) code of the softmax's exp before anything is timed.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        do Timed(backend, run); while (warm.Elapsed.TotalSeconds < 1);
        double best = double.PositiveInfinity;
        for (int r = 0; r < reps; r++) best = Math.Min(best, Timed(backend, run));
        return best;
    }

    private static Tensor RandomTensor(IBackend backend, int[] shape, int seed)
    {
        var rng = new Random(seed);
        var values = new float[shape.Aggregate(1L, (a, d) => a * d)];
        for (int i = 0; i < values.Length; i++) values[i] = rng.NextSingle() * 2 - 1;
        return backend.UploadAs(values, backend.ActivationDType, shape);
    }
}
