using System.Diagnostics;
using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cuda;
using Flux2.Models;
using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;
using Flux2.Pipelines;
using Flux2.Pipelines.Config;
using Flux2.Text;
using static Flux2.Bench.BenchSupport;

namespace Flux2.Bench;

/// <summary>
/// Whole klein-4B (distilled) images through the pipeline: prompt encoding with a Qwen3-4B-shaped text encoder (27 of 36
/// layers, as FLUX.2 reads), 4 denoising steps and the VAE decode, with random weights of the real shapes written once as
/// the diffusers repository a user downloads (its layout, shards and tokenizer; see <see cref="WriteModel"/>).
/// Per size: the end-to-end time of one image (median of --runs after a warm-up that also loads the models), the stages
/// (text encoding, denoising, decode; each timed until the backend has finished it), images/s for --images images of
/// one prompt in one request (denoised in batches of --batch), the same images from the prompt's embedding one at a time
/// and in batches (what batching gains), and the peak memory. Options: --sizes 512,1024, --runs R (default 3), --images N
/// (default 4), --batch B (default 4),
/// --device cpu|cuda[:N], --precision fp32|bf16 (default bf16), --blocks D,S (transformer blocks; default the published
/// 5,20), --folder DIR (where the repository goes, kept after; default a temporary folder, deleted after), --profile (on a
/// GPU: one more image with every kernel and product timed by events, summed by kind).
/// </summary>
internal static class PipelineBench
{
    private const string Prompt = "a lighthouse on a cliff at dusk, waves breaking below, warm light in the windows";

    public static int Run(string[] args)
    {
        int[] sizes = (Option(args, "--sizes") ?? "512,1024").Split(',').Select(int.Parse).ToArray();
        int runs = int.Parse(Option(args, "--runs") ?? "3");
        int images = int.Parse(Option(args, "--images") ?? "4");
        int batch = int.Parse(Option(args, "--batch") ?? "4");
        var precision = Precision(Option(args, "--precision") ?? "bf16");
        var device = Device(args);
        var config = Flux2Config.Klein4B();
        if (Option(args, "--blocks") is { } blocks)
        {
            var counts = blocks.Split(',').Select(int.Parse).ToArray();
            config = config with { NumLayers = counts[0], NumSingleLayers = counts[1] };
        }
        // The backend first: a missing device fails before gigabytes of weights are written.
        Backend(args, precision).Dispose();

        string folder = Option(args, "--folder") ?? Path.Combine(Path.GetTempPath(), $"flux2-bench-pipeline-{Environment.ProcessId}");
        bool temporary = Option(args, "--folder") == null;
        Directory.CreateDirectory(folder);
        try
        {
            WriteModel(folder, config);
            ResetPeakRss();
            var pipelineConfig = new PipelineConfig { ModelPath = folder, Devices = [device] };
            var watch = Stopwatch.StartNew();
            using var pipeline = Flux2Pipeline.Load(pipelineConfig, Factory(args, precision), new PipelineOptions { MaxBatch = batch });
            Console.WriteLine($"klein-4B pipeline ({config.NumLayers} double + {config.NumSingleLayers} single blocks) opened in " +
                $"{watch.Elapsed.TotalSeconds:F1} s on {pipeline.Backend.Name}");
            foreach (int size in sizes) RunSize(pipeline, size, runs, images, profile: args.Contains("--profile"));
            Console.WriteLine(PeakMemory(pipeline.Backend));
        }
        finally
        {
            if (temporary) Directory.Delete(folder, recursive: true);
        }
        return 0;
    }

    private static void RunSize(Flux2Pipeline pipeline, int size, int runs, int images, bool profile)
    {
        GenerationRequest Request(int count, ulong seed) => new() { Prompt = Prompt, Width = size, Height = size, Steps = 4, Seed = seed, NumImages = count };
        var warmUp = Stopwatch.StartNew();
        pipeline.Generate(Request(1, 1)); // loads the transformer onto the device when it waits for the encoding, compiles, warms up
        Console.WriteLine($"{size}x{size} warm-up: {warmUp.Elapsed.TotalSeconds:F2} s");

        var total = new List<double>();
        var text = new List<double>();
        var denoise = new List<double>();
        var decode = new List<double>();
        for (int r = 0; r < runs; r++)
        {
            var watch = Stopwatch.StartNew();
            var result = pipeline.Generate(Request(1, (ulong)r + 2));
            total.Add(watch.Elapsed.TotalSeconds);
            text.Add(result.Timings.TextEncoding.TotalSeconds);
            denoise.Add(result.Timings.Denoising.TotalSeconds);
            decode.Add(result.Timings.Decoding.TotalSeconds);
        }
        Console.WriteLine($"{size}x{size}, 4 steps, one image: {Median(total) * 1e3:F1} ms end to end (median of {runs}; min {total.Min() * 1e3:F1}): " +
            $"text encoder {Median(text) * 1e3:F1} ms, denoising {Median(denoise) * 1e3:F1} ms, decode {Median(decode) * 1e3:F1} ms");
        if (profile && pipeline.Backend is CudaBackend gpu)
        {
            gpu.StartProfile();
            pipeline.Generate(Request(1, 2));
            GpuProfileReport.Print($"{size}x{size} image", gpu.StopProfile(), Median(total) * 1e3);
        }

        var request = Stopwatch.StartNew();
        pipeline.Generate(Request(images, 100));
        double seconds = request.Elapsed.TotalSeconds;
        Console.WriteLine($"{size}x{size}, {images} images of one prompt in one request (batches of {pipeline.MaxBatch}): {seconds:F2} s, " +
            $"{images / seconds:F2} images/s");

        // Batching alone: the same images from the prompt's embedding, one request per image against one request for all.
        using var embedding = pipeline.EncodePrompt(Prompt);
        var embedded = Request(1, 100) with { Prompt = null, PromptEmbedding = embedding };
        var oneByOne = Stopwatch.StartNew();
        for (int k = 0; k < images; k++) pipeline.Generate(embedded with { Seed = 100 + (ulong)k });
        double single = oneByOne.Elapsed.TotalSeconds;
        var together = Stopwatch.StartNew();
        pipeline.Generate(embedded with { NumImages = images });
        double batched = together.Elapsed.TotalSeconds;
        Console.WriteLine($"{size}x{size}, {images} images, denoise + decode: one at a time {images / single:F2} images/s, in batches of " +
            $"{pipeline.MaxBatch} {images / batched:F2} images/s (x{single / batched:F2})");
    }

    /// <summary>Writes a diffusers repository with random weights under <paramref name="folder"/>, laid out as the published
    /// FLUX.2-klein-4B one is (model_index.json declaring its components; scheduler/; transformer/ as one file; text_encoder/
    /// as two shards with their index; tokenizer/; vae/), so other engines that read that layout can run the same files and
    /// <c>flux2 info</c> finds it complete.</summary>
    private static void WriteModel(string folder, Flux2Config config)
    {
        var watch = Stopwatch.StartNew();
        File.WriteAllText(Path.Combine(folder, "model_index.json"), new JsonObject
        {
            ["_class_name"] = "Flux2KleinPipeline",
            ["is_distilled"] = true,
            ["scheduler"] = new JsonArray("diffusers", "FlowMatchEulerDiscreteScheduler"),
            ["text_encoder"] = new JsonArray("transformers", "Qwen3ForCausalLM"),
            ["tokenizer"] = new JsonArray("transformers", "Qwen2TokenizerFast"),
            ["transformer"] = new JsonArray("diffusers", "Flux2Transformer2DModel"),
            ["vae"] = new JsonArray("diffusers", "AutoencoderKLFlux2"),
        }.ToJsonString());
        Directory.CreateDirectory(Path.Combine(folder, "scheduler"));
        File.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"), new JsonObject
        {
            ["_class_name"] = "FlowMatchEulerDiscreteScheduler",
            ["use_dynamic_shifting"] = true,
        }.ToJsonString());
        Directory.CreateDirectory(Path.Combine(folder, "transformer"));
        using (var weights = new TransformerStepWeights(config, TensorNaming.Diffusers))
        {
            var writer = new SafeTensorsWriter();
            foreach (var e in Flux2WeightMap.ExpectedTensors(config, TensorNaming.Diffusers))
            {
                if (e.Shape.Length == 1) writer.AddFloat32(e.Name, e.Shape, weights.Vector(e.Name));
                else AddLinear(writer, e.Name, weights.Linear(e.Name));
            }
            writer.Write(Path.Combine(folder, "transformer", "diffusion_pytorch_model.safetensors"));
        }
        WriteTextEncoder(Path.Combine(folder, "text_encoder"));
        BuiltInTokenizer.WriteQwen3(Path.Combine(folder, "tokenizer"));
        Directory.CreateDirectory(Path.Combine(folder, "vae"));
        VaeBench.WriteRandomWeights(Path.Combine(folder, "vae", "diffusion_pytorch_model.safetensors"));
        long bytes = Directory.GetFiles(folder, "*.safetensors", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Console.WriteLine($"random weights written: {bytes / 1e9:F2} GB in {watch.Elapsed.TotalSeconds:F1} s ({folder})");
    }

    /// <summary>Qwen3-4B's config.json, its embedding, 36 layers and final norm, in two shards with the index that names each
    /// tensor's shard: random bf16 (the norms as ones) for the embedding and the 27 layers FLUX.2 reads, zeros for the rest,
    /// which other engines load but never use (holes in the file: no time, no disk).</summary>
    private static void WriteTextEncoder(string folder)
    {
        Directory.CreateDirectory(folder);
        var config = TextEncoderConfig.Qwen3_4B();
        File.WriteAllText(Path.Combine(folder, "config.json"), new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
            ["model_type"] = "qwen3",
            ["vocab_size"] = config.VocabSize,
            ["hidden_size"] = config.HiddenSize,
            ["intermediate_size"] = config.IntermediateSize,
            ["num_hidden_layers"] = config.NumLayers,
            ["num_attention_heads"] = config.NumHeads,
            ["num_key_value_heads"] = config.NumKeyValueHeads,
            ["head_dim"] = config.HeadDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = config.RmsNormEps,
            ["rope_theta"] = config.RopeTheta,
            ["tie_word_embeddings"] = true,
        }.ToJsonString());
        var tensors = TextEncoderWeights.ExpectedTensors(config, config.NumLayers)
            .Append(new TextEncoderTensor(TextEncoderWeights.FinalNormName, [config.HiddenSize], false)).ToList();
        string[] shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"];
        var weightMap = new JsonObject();
        int half = tensors.Count / 2;
        for (int s = 0; s < shards.Length; s++)
        {
            // The first half of the layers with the embedding, the rest with the final norm.
            using var weights = new RandomBf16Weights();
            var writer = new SafeTensorsWriter();
            foreach (var t in s == 0 ? tensors[..half] : tensors[half..])
            {
                string name = "model." + t.Name;
                if (!t.IsLinear) writer.AddFloat32(name, t.Shape, Enumerable.Repeat(1f, checked((int)t.Shape[0])).ToArray());
                else if (TextEncoderWeights.IsUnread(t.Name, config.FluxHiddenStateLayers[^1])) AddZeros(writer, name, t.Shape);
                else AddLinear(writer, name, weights.RandomBf16(name, checked((int)t.Shape[0]), checked((int)t.Shape[1])));
                weightMap[name] = shards[s];
            }
            writer.Write(Path.Combine(folder, shards[s]));
        }
        File.WriteAllText(Path.Combine(folder, "model.safetensors.index.json"),
            new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = weightMap }.ToJsonString());
    }

    /// <summary>A bf16 tensor of zeros, left as a hole in the file (the file is extended, nothing is written).</summary>
    private static void AddZeros(SafeTensorsWriter writer, string name, long[] shape)
    {
        long bytes = shape.Aggregate(2L, (a, d) => a * d);
        writer.AddDeferred(name, DType.BFloat16, shape, stream =>
        {
            stream.SetLength(stream.Position + bytes);
            stream.Seek(bytes, SeekOrigin.Current);
        });
    }

    /// <summary>A bf16 weight in native memory, streamed into the file when it is written.</summary>
    private static unsafe void AddLinear(SafeTensorsWriter writer, string name, LinearWeight weight)
    {
        if (weight.Format != WeightFormat.BFloat16) throw new ArgumentException($"{name}: {weight.Format}, expected bf16", nameof(weight));
        long bytes = (long)weight.OutFeatures * weight.InFeatures * 2;
        writer.AddDeferred(name, DType.BFloat16, [weight.OutFeatures, weight.InFeatures], stream =>
        {
            for (long offset = 0; offset < bytes; offset += 1 << 30)
                stream.Write(new ReadOnlySpan<byte>((byte*)weight.Data + offset, (int)Math.Min(1 << 30, bytes - offset)));
        });
    }
}
