using System.Diagnostics;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.TextEncoders;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// One prompt through the klein text encoder with Qwen3-4B shapes (hidden 2560, 32 query / 8 KV heads of 128, MLP 9728,
/// FLUX.2's early exit after 27 of 36 layers) and random bf16 weights generated in memory: seconds per encode and the
/// process's peak RSS (VmHWM). Options: --tokens L (default 512), --real R (real tokens, the rest right-padded; default 300),
/// --layers N (run N layers; default 27), --reps R (default 2), --threads T (default: all processors), --device cpu|cuda[:N],
/// --precision fp32|bf16. The first encode pays for warming up; each is timed until the backend has finished it.
/// </summary>
internal static unsafe class TextEncoderBench
{
    public static int Run(string[] args)
    {
        int tokens = int.Parse(Option(args, "--tokens") ?? "512");
        int real = int.Parse(Option(args, "--real") ?? "300");
        int layerCount = int.Parse(Option(args, "--layers") ?? "27");
        int reps = int.Parse(Option(args, "--reps") ?? "2");
        using var backend = Backend(args);

        var config = TextEncoderConfig.Qwen3_4B();
        int[] hiddenStates = config.FluxHiddenStateLayers.Where(k => k < layerCount).Append(layerCount).Distinct().ToArray();

        var watch = Stopwatch.StartNew();
        var buffers = new RandomBf16Weights();
        var weights = RandomWeights(config, layerCount, buffers, backend);
        Console.WriteLine($"Qwen3-4B shapes, {layerCount} of {config.NumLayers} layers, {buffers.Bytes / 1e9:F2} GB of random bf16 weights "
            + $"generated in {watch.Elapsed.TotalSeconds:F1} s; {backend.Name}");

        using var encoder = new TextEncoder(backend, config, weights, new TextEncoderOptions { HiddenStateLayers = hiddenStates });
        var rng = new Random(1);
        var ids = Enumerable.Range(0, tokens).Select(_ => (long)rng.Next(config.VocabSize)).ToArray();
        var mask = Enumerable.Range(0, tokens).Select(i => i < real ? 1L : 0L).ToArray();
        double best = double.PositiveInfinity;
        for (int r = 0; r < reps; r++)
        {
            int[] shape = [];
            double seconds = Timed(backend, () =>
            {
                using var embeds = encoder.Encode(ids, mask, batch: 1);
                shape = embeds.Shape;
            });
            best = Math.Min(best, seconds);
            Console.WriteLine($"encode {r + 1}: {seconds * 1e3:F1} ms -> [{string.Join(", ", shape)}]");
        }
        double flops = 2.0 * tokens * layerCount * LayerParameters(config);
        Console.WriteLine($"best {best * 1e3:F1} ms ({flops / best * 1e-9:F1} GFLOP/s in the linears); {PeakMemory(backend)}");
        return 0;
    }

    private static long LayerParameters(TextEncoderConfig c)
    {
        long q = (long)c.NumHeads * c.HeadDim, kv = (long)c.NumKeyValueHeads * c.HeadDim;
        return c.HiddenSize * (2 * q + 2 * kv) + 3L * c.HiddenSize * c.IntermediateSize;
    }

    private static TextEncoderWeights RandomWeights(TextEncoderConfig c, int layerCount, RandomBf16Weights buffers, IBackend backend)
    {
        int h = c.HiddenSize, d = c.HeadDim, q = c.NumHeads * d, kv = c.NumKeyValueHeads * d, m = c.IntermediateSize;
        LinearWeight Linear(string name, int rows, int cols) => backend.LoadLinear(buffers.RandomBf16(name, rows, cols));
        Tensor Norm(int size) => backend.Upload<float>(Enumerable.Range(0, size).Select(i => 1f + (i % 7 - 3) * 0.05f).ToArray(), size);
        var layers = new List<TextEncoderLayerWeights>();
        for (int i = 0; i < layerCount; i++)
        {
            layers.Add(new TextEncoderLayerWeights
            {
                InputNorm = Norm(h), QNorm = Norm(d), KNorm = Norm(d),
                Q = Linear($"layers.{i}.q_proj", q, h), K = Linear($"layers.{i}.k_proj", kv, h),
                V = Linear($"layers.{i}.v_proj", kv, h), O = Linear($"layers.{i}.o_proj", h, q),
                PostAttentionNorm = Norm(h),
                Gate = Linear($"layers.{i}.gate_proj", m, h), Up = Linear($"layers.{i}.up_proj", m, h), Down = Linear($"layers.{i}.down_proj", h, m),
            });
        }
        return new TextEncoderWeights(Linear("embed_tokens", c.VocabSize, h), layers, buffers);
    }
}
