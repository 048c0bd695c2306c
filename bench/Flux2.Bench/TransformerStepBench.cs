using System.Diagnostics;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cuda;
using Flux2.Models;
using Flux2.Models.Lora;
using Flux2.Models.Quantization;
using Flux2.Models.Transformer;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// One transformer forward pass (one denoising step, batch 1, 512 text tokens) with random bf16 weights in memory.
/// Reports seconds per step, GFLOP/s (every GEMM + attention), peak RSS (VmHWM) and managed bytes allocated per
/// steady-state step. <c>step</c>: klein-4B shapes; <c>step-dev-single</c>: dev-shaped single blocks (hidden 6144).
/// Options: --sizes 256,512 (pixels; image tokens = (px/16)²), --steps N (timed steps after one warm-up, default 2),
/// --threads T, --naming bfl|diffusers (fused or split qkv, default bfl), --blocks N (step-dev-single, default 2),
/// --weights bf16|fp8|nvfp4 (the Linears the published FP8 / NVFP4 layouts quantize, stored quantized; default bf16),
/// --precision fp32|bf16|both (the products' precision; default fp32; both runs each size in fp32, then in bf16),
/// --device cpu|cuda[:N] (default cpu; on a GPU the weights are uploaded once and each step is timed until the device
/// has finished it), --profile (on a GPU: one more step with every kernel and product timed by events, summed by kind),
/// --reference (also an editing step with one reference image of the same size: as klein runs it, [noisy, reference]
/// tokens every step, and as klein 9B-KV does, the reference tokens at the first step and their cached keys and values
/// after that; with the 4-step image each gives), --adapter lora:R|dora:R|loha:R|lokr:F[,...] (then the same steps again with a
/// random adapter of that kind on every block Linear, one after the other, see <see cref="RandomAdapterFile"/>, and each size's
/// time against the plain step).
/// Step times are the median (and minimum) of the timed steps.
/// </summary>
internal static class TransformerStepBench
{
    private const int TextTokens = 512;

    public static int RunKlein(string[] args) =>
        Run("klein-4B", Flux2Config.Klein4B(), args, defaultSizes: "256,512");

    public static int RunDevSingle(string[] args)
    {
        int blocks = int.Parse(Option(args, "--blocks") ?? "2");
        return Run($"dev, {blocks} single blocks only", Flux2Config.Dev() with { NumLayers = 0, NumSingleLayers = blocks }, args, defaultSizes: "256");
    }

    private static int Run(string label, Flux2Config config, string[] args, string defaultSizes)
    {
        int[] sizes = (Option(args, "--sizes") ?? defaultSizes).Split(',').Select(int.Parse).ToArray();
        int steps = int.Parse(Option(args, "--steps") ?? "2");
        var naming = (Option(args, "--naming") ?? "bfl") == "diffusers" ? TensorNaming.Diffusers : TensorNaming.Bfl;
        QuantizedCheckpointFormat? quantized = (Option(args, "--weights") ?? "bf16") switch
        {
            "bf16" => null,
            "fp8" => QuantizedCheckpointFormat.Fp8,
            "nvfp4" => QuantizedCheckpointFormat.Nvfp4,
            var other => throw new ArgumentException($"--weights {other}: expected bf16, fp8 or nvfp4"),
        };
        var precisions = (Option(args, "--precision") ?? "fp32") == "both" ? ["fp32", "bf16"] : new[] { Option(args, "--precision") ?? "fp32" };

        TransformerStepWeights? weights = null;
        try
        {
            foreach (var precision in precisions)
            {
                // The backend first: a missing device fails before the weights are generated.
                using var backend = Backend(args, Precision(precision));
                weights ??= Generate(label, config, naming, quantized);
                Console.WriteLine($"{precision}: {backend.Name}");
                using var model = new Flux2Transformer(config, naming, weights.Linear, weights.Vector, backend);
                var plain = RunSizes(model, backend, config, sizes, steps, profile: args.Contains("--profile"), reference: args.Contains("--reference"));
                foreach (var adapter in Option(args, "--adapter")?.Split(',') ?? [])
                    RunWithAdapter(model, backend, config, naming, adapter, sizes, steps, plain);
                Console.WriteLine(PeakMemory(backend));
            }
        }
        finally
        {
            weights?.Dispose();
        }
        return 0;
    }

    private static TransformerStepWeights Generate(string label, Flux2Config config, TensorNaming naming, QuantizedCheckpointFormat? quantized)
    {
        var watch = Stopwatch.StartNew();
        var weights = new TransformerStepWeights(config, naming, quantized);
        Console.WriteLine($"{label}: {config.NumLayers} double + {config.NumSingleLayers} single blocks, hidden {config.InnerDim}, " +
            $"{TextTokens} text tokens, {naming} naming; random {quantized?.ToString() ?? "bf16"} weights {weights.Bytes / 1e9:F2} GB generated in {watch.Elapsed.TotalSeconds:F1} s");
        return weights;
    }

    /// <summary>The steps again with a random adapter on every block Linear: each size's time against the plain step's.</summary>
    private static void RunWithAdapter(Flux2Transformer model, IBackend backend, Flux2Config config, TensorNaming naming, string adapter, int[] sizes,
        int steps, double[] plain)
    {
        var path = Path.Combine(Path.GetTempPath(), $"flux2-bench-adapter-{Environment.ProcessId}.safetensors");
        try
        {
            RandomAdapterFile.Write(config, adapter, path);
            var watch = Stopwatch.StartNew();
            model.UseLoras(LoraSet.Load([new LoraFile(path)], config, naming, lenient: false));
            Console.WriteLine($"{adapter} ({new FileInfo(path).Length / 1e6:F0} MB file) on every block Linear, loaded in {watch.Elapsed.TotalSeconds:F1} s:");
            var adapted = RunSizes(model, backend, config, sizes, steps, profile: false, reference: false);
            for (int i = 0; i < sizes.Length; i++)
                Console.WriteLine($"  {sizes[i]}x{sizes[i]} with {adapter}: {adapted[i] / plain[i]:F3}x the plain step");
            model.UseLoras(null);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <returns>each size's median step time in seconds</returns>
    private static double[] RunSizes(Flux2Transformer model, IBackend backend, Flux2Config config, int[] sizes, int steps, bool profile, bool reference)
    {
        var medians = new List<double>();
        foreach (int px in sizes)
        {
            int imageTokens = (px / 16) * (px / 16);
            using var inputs = new StepInputs(backend, config, imageTokens);
            using var output = backend.Allocate(DType.Float32, 1, imageTokens, config.EffectiveOutChannels);
            void Step() => model.Forward(inputs.Hidden, inputs.Encoder, inputs.Timestep, inputs.Guidance, inputs.ImgIds, inputs.TxtIds, output);

            var (times, issuing, allocated) = TimeSteps(backend, steps, Step);
            var (gemm, attention) = StepFlops(config, imageTokens, TextTokens);
            double median = Median(times);
            medians.Add(median);
            Console.WriteLine($"{px}x{px} ({imageTokens} image tokens): {median * 1e3:F1} ms/step (median of {steps}, min {times.Min() * 1e3:F1}), " +
                $"{(gemm + attention) / median * 1e-12:F2} TFLOP/s ({(gemm + attention) * 1e-12:F2} TFLOP/step: GEMM {gemm * 1e-12:F2}, attention {attention * 1e-12:F2}), " +
                $"managed allocation {allocated} B/step" + (backend.Device.Kind == DeviceKind.Gpu ? $", host issuing the ops {Median(issuing) * 1e3:F1} ms/step" : ""));
            if (profile && backend is CudaBackend gpu)
            {
                gpu.StartProfile();
                Step();
                GpuProfileReport.Print($"{px}x{px} step", gpu.StopProfile(), median * 1e3);
            }
            if (reference) RunReferenceSteps(model, backend, config, inputs, imageTokens, steps, median);
        }
        return [.. medians];
    }

    /// <summary>Editing with one reference of the image's size: klein's step over [noisy, reference] tokens, and klein
    /// 9B-KV's first step (the same tokens, the reference attending only to itself) and later steps (the noisy tokens
    /// against the cached reference keys and values); a 4-step image of each, against 4 text-to-image steps.</summary>
    private static void RunReferenceSteps(Flux2Transformer model, IBackend backend, Flux2Config config, StepInputs plain, int imageTokens, int steps,
        double plainStep)
    {
        using var edit = new StepInputs(backend, config, 2 * imageTokens);
        using var editOutput = backend.Allocate(DType.Float32, 1, 2 * imageTokens, config.EffectiveOutChannels);
        using var output = backend.Allocate(DType.Float32, 1, imageTokens, config.EffectiveOutChannels);
        double standard = Median(TimeSteps(backend, steps,
            () => model.Forward(edit.Hidden, edit.Encoder, edit.Timestep, edit.Guidance, edit.ImgIds, edit.TxtIds, editOutput)).Times);
        double extract = Median(TimeSteps(backend, steps, () =>
        {
            using var _ = model.ForwardExtractingReferences(edit.Hidden, imageTokens, edit.Encoder, edit.Timestep, edit.Guidance, edit.ImgIds, edit.TxtIds,
                output);
        }).Times);
        using var cache = model.ForwardExtractingReferences(edit.Hidden, imageTokens, edit.Encoder, edit.Timestep, edit.Guidance, edit.ImgIds, edit.TxtIds,
            output);
        double cached = Median(TimeSteps(backend, steps,
            () => model.ForwardWithReferenceCache(plain.Hidden, cache, plain.Encoder, plain.Timestep, plain.Guidance, plain.ImgIds, plain.TxtIds, output)).Times);
        Console.WriteLine($"  with a reference of the same size: klein {standard * 1e3:F1} ms/step; klein-kv first step {extract * 1e3:F1} ms, " +
            $"later steps {cached * 1e3:F1} ms; a 4-step image: text-to-image {4 * plainStep:F2} s, klein edit {4 * standard:F2} s, " +
            $"klein-kv edit {extract + 3 * cached:F2} s ({4 * standard / (extract + 3 * cached):F2}x faster)");
    }

    /// <summary>One warm-up run (buffers, JIT, kernels, first touch of the weights), then <paramref name="steps"/> timed
    /// until the backend has finished each: the times, how long the host took to issue the ops (on a GPU: about the step
    /// when the GPU waits for launches, which CUDA graphs would remove) and the managed bytes allocated per step.</summary>
    private static (List<double> Times, List<double> Issuing, long Allocated) TimeSteps(IBackend backend, int steps, Action step)
    {
        Timed(backend, step);
        var times = new List<double>(steps);
        var issuing = new List<double>(steps);
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        for (int s = 0; s < steps; s++)
        {
            var watch = Stopwatch.StartNew();
            step();
            issuing.Add(watch.Elapsed.TotalSeconds);
            backend.Synchronize();
            times.Add(watch.Elapsed.TotalSeconds);
        }
        return (times, issuing, (GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore) / Math.Max(1, steps));
    }

    /// <summary>FLOPs of one forward pass at batch 1: 2·M·N·K per Linear, 4·L²·D per attention (QKᵀ and PV).</summary>
    private static (double Gemm, double Attention) StepFlops(Flux2Config c, int imageTokens, int textTokens)
    {
        double d = c.InnerDim, m = c.MlpHidden, l = imageTokens + textTokens, tg = c.TimestepGuidanceChannels;
        double gemm = 2 * (tg * d + d * d) * (c.GuidanceEmbeds ? 2 : 1)   // time (and guidance) MLPs
            + 2 * d * (6 * d + 6 * d + 3 * d + 2 * d)                       // modulations
            + 2 * imageTokens * c.InChannels * d + 2 * textTokens * c.JointAttentionDim * d
            + c.NumLayers * 2 * l * (3 * d * d + d * d + 2 * m * d + m * d) // double blocks, both streams
            + c.NumSingleLayers * 2 * l * ((3 * d + 2 * m) * d + (d + m) * d)
            + 2 * imageTokens * d * c.EffectiveOutChannels;
        double attention = (c.NumLayers + c.NumSingleLayers) * 4 * l * l * d;
        return (gemm, attention);
    }

    /// <summary>Random latents and text features, ids of a square image grid (0, y, x, 0) and of the text (0, 0, 0, i), on the
    /// backend.</summary>
    private sealed class StepInputs : IDisposable
    {
        public Tensor Hidden { get; }
        public Tensor Encoder { get; }
        public Tensor Timestep { get; }
        public Tensor? Guidance { get; }
        public Tensor ImgIds { get; }
        public Tensor TxtIds { get; }

        public StepInputs(IBackend backend, Flux2Config config, int imageTokens)
        {
            var rng = new Random(7);
            float[] Noise(int count) => Enumerable.Range(0, count).Select(_ => rng.NextSingle() * 2 - 1).ToArray();
            Hidden = backend.Upload<float>(Noise(imageTokens * config.InChannels), 1, imageTokens, config.InChannels);
            Encoder = backend.Upload<float>(Noise(TextTokens * config.JointAttentionDim), 1, TextTokens, config.JointAttentionDim);
            Timestep = backend.Upload<float>([0.5f], 1);
            Guidance = config.GuidanceEmbeds ? backend.Upload<float>([4f], 1) : null;
            int side = (int)Math.Sqrt(imageTokens);
            var img = new long[imageTokens * 4];
            for (int i = 0; i < imageTokens; i++) (img[4 * i + 1], img[4 * i + 2]) = (i / side, i % side);
            ImgIds = backend.Upload<long>(img, imageTokens, 4);
            var txt = new long[TextTokens * 4];
            for (int i = 0; i < TextTokens; i++) txt[4 * i + 3] = i;
            TxtIds = backend.Upload<long>(txt, TextTokens, 4);
        }

        public void Dispose()
        {
            foreach (var t in new[] { Hidden, Encoder, Timestep, Guidance, ImgIds, TxtIds }) t?.Dispose();
        }
    }
}
