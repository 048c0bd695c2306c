using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>
/// The whole transformer denoising two images as one batch: the golden's first sample and a second one with other image
/// tokens, another prompt (text embedding), another timestep and another guidance, sharing the ids. The GPU's batch of 2
/// must match the CPU's batch of 2 sample by sample (the golden tests' tolerances), and each sample must match its own
/// batch-1 run on the GPU (the per-op tolerance: only the products' algorithms differ), so a kernel that gives every batch
/// element element 0's modulation, text or rows fails. Skipped without a GPU.
/// </summary>
public sealed class GpuTransformerBatchTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    /// <summary>tiny_dev: head dim 64, a guidance embedder, 2 + 2 blocks; tiny_klein: no guidance embedder; head128: FLUX.2's
    /// head dim (the bf16 tensor-core attention's 128 instance).</summary>
    public static TheoryData<string, ComputePrecision> Cases()
    {
        var data = new TheoryData<string, ComputePrecision>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        foreach (var name in new[] { "tiny_dev", "tiny_klein", "head128" })
            data.Add(name, precision);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachSampleOfABatchOfTwoMatchesTheCpuAndItsOwnRun(string name, ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        var inputs = TwoSamples.FromGolden(name);
        var expected = inputs.Run(comparison.Cpu, name, 0, 2);
        float[] batched, alone;
        using (var model = inputs.Load(gpu, name))
        {
            batched = inputs.Run(model, 0, 2);
            alone = [.. inputs.Run(model, 0, 1), .. inputs.Run(model, 1, 1)];
        }
        int sample = inputs.OutputLength;
        for (int b = 0; b < 2; b++)
        {
            var cpu = expected.AsSpan(b * sample, sample).ToArray();
            var gpuBatch = batched.AsSpan(b * sample, sample).ToArray();
            string op = $"transformer {name} batch 2 sample {b}";
            if (precision == ComputePrecision.BFloat16) GpuComparison.AssertClose(op, precision, cpu, gpuBatch, GpuTransformerGoldenTests.BFloat16Tolerance);
            else GpuComparison.AssertMaxAbs(op, precision, cpu, gpuBatch, GpuTransformerGoldenTests.ExactTolerance);
            GpuComparison.AssertClose($"{op} vs batch 1", precision, alone.AsSpan(b * sample, sample).ToArray(), gpuBatch,
                GpuComparison.Tolerance(precision));
        }
    }

    /// <summary>Host inputs of two samples: image tokens [L, 128], text embeddings [Ltxt, ctx], timesteps and guidance, and
    /// the ids they share ([L, 4] and [Ltxt, 4]).</summary>
    private sealed class TwoSamples
    {
        public required int ImageTokens { get; init; }
        public required int TextTokens { get; init; }
        public required int Channels { get; init; }
        public required int Context { get; init; }
        public required float[][] Hidden { get; init; }
        public required float[][] Text { get; init; }
        public required float[] Timesteps { get; init; }
        public required float[] Guidance { get; init; }
        public required long[] ImageIds { get; init; }
        public required long[] TextIds { get; init; }

        /// <summary>Elements of one sample's output [L, 128].</summary>
        public int OutputLength => ImageTokens * Channels;

        /// <summary>Sample 0 is the golden's batch element 0 (t 0.5–0.73, guidance 3.5–4 where the model embeds it); sample 1
        /// has reproducible random tokens and text of about the golden's spread (uniform, σ ≈ 1), t = 0.15 and guidance 1.5.</summary>
        public static TwoSamples FromGolden(string name)
        {
            using var io = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
            var hidden = io.Get("inputs.hidden_states");
            var text = io.Get("inputs.encoder_hidden_states");
            int imageTokens = (int)hidden.Shape[1], channels = (int)hidden.Shape[2], textTokens = (int)text.Shape[1], context = (int)text.Shape[2];
            int imageLength = imageTokens * channels, textLength = textTokens * context;
            return new TwoSamples
            {
                ImageTokens = imageTokens,
                TextTokens = textTokens,
                Channels = channels,
                Context = context,
                Hidden = [hidden.ToFloat32Array()[..imageLength], GpuComparison.Random(imageLength, 60, 1.7f)],
                Text = [text.ToFloat32Array()[..textLength], GpuComparison.Random(textLength, 61, 1.7f)],
                Timesteps = [io.Get("inputs.timestep").ToFloat32Array()[0], 0.15f],
                Guidance = [io.Contains("inputs.guidance") ? io.Get("inputs.guidance").ToFloat32Array()[0] : 4f, 1.5f],
                ImageIds = io.Get("inputs.img_ids").ToInt64Array()[..(imageTokens * 4)],
                TextIds = io.Get("inputs.txt_ids").ToInt64Array()[..(textTokens * 4)],
            };
        }

        public Flux2Transformer Load(IBackend backend, string name) => Flux2Transformer.Load(Fixtures.Golden($"{name}.bfl.safetensors"), backend);

        public float[] Run(IBackend backend, string name, int first, int count)
        {
            using var model = Load(backend, name);
            return Run(model, first, count);
        }

        /// <summary>Samples [first, first + count) as one batch through <paramref name="model"/>: the output [count, L, 128].</summary>
        public float[] Run(Flux2Transformer model, int first, int count)
        {
            var backend = model.Backend;
            using var hidden = backend.Upload<float>(Hidden[first..(first + count)].SelectMany(h => h).ToArray(), count, ImageTokens, Channels);
            using var text = backend.Upload<float>(Text[first..(first + count)].SelectMany(t => t).ToArray(), count, TextTokens, Context);
            using var timesteps = backend.Upload<float>(Timesteps[first..(first + count)], count);
            using var guidance = backend.Upload<float>(Guidance[first..(first + count)], count);
            using var imageIds = backend.Upload<long>(ImageIds, ImageTokens, 4);
            using var textIds = backend.Upload<long>(TextIds, TextTokens, 4);
            using var output = model.Forward(hidden, text, timesteps, guidance, imageIds, textIds);
            return backend.DownloadFloat32(output);
        }
    }
}
