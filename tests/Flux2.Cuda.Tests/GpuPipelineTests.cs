using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Pipelines;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Config;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>
/// Whole generations with every stage on the GPU (text encoder, transformer, sampler, VAE): the diffusers pipeline goldens
/// pipe_t2i and pipe_edit (tiny_dev + vae_small, 128×96, 4 steps; the edit's reference is VAE-encoded on the GPU) step by
/// step, First-Block-Cache on them, and klein-base from a prompt with classifier-free guidance (also in batches, and with the text encoder on the CPU) and a
/// klein-kv edit (its reference cache) against the same generation on the CPU. Exact mode: the CPU's golden tolerances (1e-4 on velocities and latents, 2e-4 on decoded pixels, images
/// within 1 LSB). bf16 mode: relative L2 error ≤ 5e-2 on the final latents and the decoded pixels, a first bound to be
/// tightened to what the device measures. Skipped without a GPU.
/// </summary>
public sealed class GpuPipelineTests : IClassFixture<TinyDevModel>, IClassFixture<TinyKleinBaseModel>, IClassFixture<TinyKleinKvModel>
{
    private const double BFloat16Tolerance = 5e-2;

    private readonly TinyDevModel _dev;
    private readonly TinyKleinBaseModel _kleinBase;
    private readonly TinyKleinKvModel _kleinKv;

    public GpuPipelineTests(TinyDevModel dev, TinyKleinBaseModel kleinBase, TinyKleinKvModel kleinKv) =>
        (_dev, _kleinBase, _kleinKv) = (dev, kleinBase, kleinKv);

    public static TheoryData<string, ComputePrecision> GoldenCases()
    {
        var data = new TheoryData<string, ComputePrecision>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        foreach (var name in new[] { "pipe_t2i", "pipe_edit" })
            data.Add(name, precision);
        return data;
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void GoldenPipelineStepByStep(string goldenCase, ComputePrecision precision)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden(goldenCase + ".io.safetensors"));
        var run = GenerateGolden(io, precision, cache: null);
        string name = $"pipeline {goldenCase}";
        if (precision == ComputePrecision.BFloat16)
        {
            GpuComparison.AssertClose(name + " latents", precision, io.Get("outputs.latents_final").ToFloat32Array(), run.Image.Latents, BFloat16Tolerance);
            GpuComparison.AssertClose(name + " decoded", precision, io.Get("outputs.decoded").ToFloat32Array(), run.Image.Decoded, BFloat16Tolerance);
            return;
        }
        Assert.Equal(4, run.Velocities.Count);
        for (int i = 0; i < 4; i++)
        {
            AssertGolden(io, $"trace.step{i}.noise_pred", run.Velocities[i], 1e-4, 1e-4);
            AssertGolden(io, $"trace.step{i}.latents_after", run.Latents[i], 1e-4, 1e-4);
        }
        AssertGolden(io, "outputs.latents_final", run.Image.Latents, 1e-4, 1e-4);
        AssertGolden(io, "outputs.decoded", run.Image.Decoded, 2e-4, 0);
        var expected = io.Get("outputs.image_uint8").AsSpan<byte>();
        int lsb = 0;
        for (int i = 0; i < expected.Length; i++) lsb = Math.Max(lsb, Math.Abs(expected[i] - run.Image.Image.Pixels[i]));
        GpuComparison.Report(name + " image", precision, expected.Length, lsb, lsb <= 1, " (max LSB)");
        Assert.True(lsb <= 1, $"{goldenCase}: image_uint8 differs by {lsb} LSB");
    }

    /// <summary>Threshold 0 never reuses and gives the uncached run bit for bit; a huge threshold reuses every step after the
    /// first (the cache's residual measurement and reuse run as device ops).</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void FirstBlockCache(ComputePrecision precision)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        var plain = GenerateGolden(io, precision, cache: null);
        var never = GenerateGolden(io, precision, new FirstBlockCacheOptions { Threshold = 0 });
        for (int i = 0; i < 4; i++) Assert.Equal(plain.Latents[i], never.Latents[i]);
        Assert.Contains("0/4 steps reused the cache", never.Notices);
        var always = GenerateGolden(io, precision, new FirstBlockCacheOptions { Threshold = 1e30 });
        for (int i = 1; i < 4; i++) Assert.Equal(always.Velocities[0], always.Velocities[i]);
        Assert.Contains("3/4 steps reused the cache", always.Notices);
        GpuComparison.Report("pipeline pipe_t2i first-block cache", precision, plain.Latents[^1].Length, 0, true, " (bit-exact)");
    }

    /// <summary>TaylorSeer (second order, computing steps 0, 1, 3 and 5 of 6, extrapolating 2 and 4) with its update and
    /// extrapolation as device ops: the GPU's run against the CPU's, step by step, on the pipe_t2i setup.</summary>
    [Fact]
    public void TaylorSeerMatchesTheCpu()
    {
        CudaAvailability.RequireGpu();
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        var cache = new TaylorSeerOptions { Interval = 2, Warmup = 2, MaxOrder = 2 };
        List<float[]> Latents(IBackendFactory backends)
        {
            using var pipeline = Load(_dev.Folder, backends);
            using var inputs = new GoldenPipelineInputs(io, pipeline.Backend);
            var latents = new List<float[]>();
            pipeline.Generate(inputs.Request() with { Steps = 6, Cache = cache, OnStep = s => latents.Add(s.Backend.DownloadFloat32(s.Latents)) },
                TestContext.Current.CancellationToken);
            return latents;
        }
        var expected = Latents(new CpuFactory());
        var actual = Latents(new GpuFactory(ComputePrecision.Float32));
        Assert.Equal(6, actual.Count);
        for (int i = 0; i < 6; i++) GpuComparison.AssertClose($"pipeline TaylorSeer step {i} latents", ComputePrecision.Float32, expected[i], actual[i], 1e-5);
    }

    private static GenerationRequest KleinBaseRequest => new()
    {
        Prompt = "a lighthouse at dusk",
        NegativePrompt = "blurry",
        Width = 64,
        Height = 48,
        Steps = 3,
        Guidance = 4.0,
        Seed = 11,
    };

    /// <summary>klein-base from a prompt and a negative prompt, guidance 4 (two transformer passes per step): the tiny
    /// Qwen3 encoder, the sampler and the VAE decoder on the GPU against the CPU pipeline.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void KleinBaseFromAPromptWithGuidanceMatchesTheCpu(ComputePrecision precision)
    {
        CudaAvailability.RequireGpu();
        AssertOneImageMatchesTheCpu(_kleinBase.Folder, KleinBaseRequest, precision, "klein-base cfg");
    }

    /// <summary>A klein-kv edit from a prompt and one reference: the reference tokens' first step, their keys and values
    /// cached on the GPU and read by the later steps, against the CPU pipeline.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void KleinKvEditMatchesTheCpu(ComputePrecision precision)
    {
        CudaAvailability.RequireGpu();
        var pixels = new byte[80 * 64 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 251);
        var request = new GenerationRequest
        {
            Prompt = "the same scene at night",
            Width = 64,
            Height = 48,
            Seed = 11,
            ReferenceImages = [new("scene.png", new Pipelines.Images.RgbImage(80, 64, pixels))],
        };
        AssertOneImageMatchesTheCpu(_kleinKv.Folder, request, precision, "klein-kv edit");
    }

    /// <summary>klein-base with guidance as <c>--device cuda --text-encoder-device cpu</c> runs it: the prompts encoded on the
    /// CPU cross to the GPU, which denoises and decodes; against the CPU pipeline.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void TheTextEncoderOnTheCpuBesideTheGpu(ComputePrecision precision)
    {
        CudaAvailability.RequireGpu();
        var config = new PipelineConfig { ModelPath = _kleinBase.Folder, Devices = [DeviceRef.Gpu(0)], TextEncoderDevice = DeviceRef.Cpu() };
        AssertOneImageMatchesTheCpu(_kleinBase.Folder, KleinBaseRequest, precision, "klein-base cfg, text encoder on the CPU", () =>
        {
            var pipeline = Flux2Pipeline.Load(config, new SplitFactory(precision));
            Assert.IsType<CpuBackend>(pipeline.TextEncoderBackend);
            Assert.IsType<CudaBackend>(pipeline.Backend);
            return pipeline;
        });
    }

    /// <summary>The one image of <paramref name="request"/> on the GPU (the pipeline <paramref name="gpuPipeline"/> loads, by
    /// default everything on the GPU) against the CPU: final latents and decoded pixels, within 1e-4 in exact mode and the bf16
    /// bound otherwise.</summary>
    private static void AssertOneImageMatchesTheCpu(string folder, GenerationRequest request, ComputePrecision precision, string what,
        Func<Flux2Pipeline>? gpuPipeline = null)
    {
        GeneratedImage expected, actual;
        using (var cpu = Load(folder, new CpuFactory())) expected = Assert.Single(cpu.Generate(request, TestContext.Current.CancellationToken).Images);
        using (var gpu = gpuPipeline?.Invoke() ?? Load(folder, new GpuFactory(precision)))
            actual = Assert.Single(gpu.Generate(request, TestContext.Current.CancellationToken).Images);
        double tolerance = precision == ComputePrecision.BFloat16 ? BFloat16Tolerance : 1e-4;
        GpuComparison.AssertClose($"pipeline {what} latents", precision, expected.Latents, actual.Latents, tolerance);
        GpuComparison.AssertClose($"pipeline {what} decoded", precision, expected.Decoded, actual.Decoded, tolerance);
    }

    /// <summary>Three klein-base images with guidance denoised in batches of two on the GPU (the batched transformer, the
    /// stacked prompts, the sampler over several rows) against the CPU one image at a time.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void BatchedImagesMatchTheCpuOneByOne(ComputePrecision precision)
    {
        CudaAvailability.RequireGpu();
        var request = new GenerationRequest
        {
            Prompts = ["a lighthouse at dusk", "a red fox in the snow"], NegativePrompt = "blurry", NumImages = 2, Width = 64, Height = 48,
            Steps = 3, Guidance = 4.0, Seed = 21,
        };
        IReadOnlyList<GeneratedImage> expected, actual;
        using (var cpu = Load(_kleinBase.Folder, new CpuFactory())) expected = cpu.Generate(request, TestContext.Current.CancellationToken).Images;
        using (var gpu = Load(_kleinBase.Folder, new GpuFactory(precision), new PipelineOptions { MaxBatch = 3 }))
            actual = gpu.Generate(request, TestContext.Current.CancellationToken).Images;
        double tolerance = precision == ComputePrecision.BFloat16 ? BFloat16Tolerance : 1e-4;
        Assert.Equal(4, actual.Count);
        for (int k = 0; k < 4; k++)
        {
            GpuComparison.AssertClose($"pipeline batched image {k} latents", precision, expected[k].Latents, actual[k].Latents, tolerance);
            GpuComparison.AssertClose($"pipeline batched image {k} decoded", precision, expected[k].Decoded, actual[k].Decoded, tolerance);
        }
    }

    /// <summary>A server's pipeline on a bf16 GPU (a prompt cache, batches of two): a prompt seen before (its embedding from
    /// the cache) and a new one share a batch, and the first gives the image it gave alone.</summary>
    [Fact]
    public void ACachedAndANewPromptShareABatch()
    {
        CudaAvailability.RequireGpu();
        var cancellation = TestContext.Current.CancellationToken;
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = _kleinBase.Folder }, new GpuFactory(ComputePrecision.BFloat16),
            new PipelineOptions { MaxBatch = 2, PromptCache = new PromptEmbeddingCache() });
        GenerationRequest Request(string prompt, ulong seed) => new() { Prompt = prompt, Width = 64, Height = 48, Steps = 2, Guidance = 1.0, Seed = seed };
        var alone = pipeline.Generate(Request("a lighthouse at dusk", 1), cancellation).Images[0];
        var outcomes = pipeline.GenerateTogether(
            [(pipeline.Prepare(Request("a lighthouse at dusk", 1)), cancellation), (pipeline.Prepare(Request("a red fox", 2)), cancellation)]);
        Assert.All(outcomes, o => Assert.Null(o.Error));
        GpuComparison.AssertClose("pipeline cached prompt in a batch latents", ComputePrecision.BFloat16, alone.Latents,
            outcomes[0].Result!.Images[0].Latents, BFloat16Tolerance);
    }

    /// <summary>What generate does on a GPU: the transformer uploaded only after the prompts are encoded and the encoder
    /// released. The image of the pipeline that loads everything at once.</summary>
    [Fact]
    public void TheTransformerLoadedAfterEncodingGivesTheSameImage()
    {
        CudaAvailability.RequireGpu();
        var request = new GenerationRequest { Prompt = "a lighthouse at dusk", Width = 64, Height = 48, Steps = 2, Guidance = 4.0, Seed = 5 };
        byte[] eager, deferred;
        using (var pipeline = Load(_kleinBase.Folder, new GpuFactory(ComputePrecision.BFloat16)))
            eager = pipeline.Generate(request, TestContext.Current.CancellationToken).Images[0].Image.Pixels;
        using (var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = _kleinBase.Folder }, new GpuFactory(ComputePrecision.BFloat16),
                   new PipelineOptions { ReleaseTextEncoderAfterUse = true, LoadTransformerAfterEncoding = true }))
            deferred = pipeline.Generate(request, TestContext.Current.CancellationToken).Images[0].Image.Pixels;
        // GroupNorm's sums are added atomically in double, in no fixed order: allow a rounding's last bit.
        int lsb = eager.Zip(deferred, (a, b) => Math.Abs(a - b)).Max();
        GpuComparison.Report("pipeline klein-base transformer after encoding", ComputePrecision.BFloat16, eager.Length, lsb, lsb <= 1, " (max LSB)");
        Assert.True(lsb <= 1, $"the images differ by {lsb} LSB");
    }

    private GoldenPipelineRun GenerateGolden(SafeTensorsFile io, ComputePrecision precision, CacheOptions? cache)
    {
        CudaAvailability.RequireGpu();
        using var pipeline = Load(_dev.Folder, new GpuFactory(precision));
        return GoldenPipelineRun.Generate(pipeline, io, cache, TestContext.Current.CancellationToken);
    }

    private static Flux2Pipeline Load(string folder, IBackendFactory backends, PipelineOptions? options = null) =>
        Flux2Pipeline.Load(new PipelineConfig { ModelPath = folder }, backends, options);

    private static void AssertGolden(SafeTensorsFile io, string name, float[] actual, double atol, double rtol)
    {
        var expected = io.Get(name).ToFloat32Array();
        double excess = FloatComparison.WorstExcess(expected, actual, atol, rtol, out _);
        GpuComparison.Report($"golden {name}", ComputePrecision.Float32, expected.Length, excess, excess <= 0, $" (excess over {atol:G1} + {rtol:G1}|x|)");
        FloatComparison.AssertClose(expected, actual, atol, rtol, name);
    }

    /// <summary>The pipeline owns (and disposes) the backend it is given, so each pipeline gets a new one.</summary>
    private sealed class GpuFactory(ComputePrecision precision) : IBackendFactory
    {
        public IBackend Create(DeviceRef device) => CudaBackend.Create(0, precision);
    }

    private sealed class CpuFactory : IBackendFactory
    {
        public IBackend Create(DeviceRef device) => new CpuBackend(precision: ComputePrecision.Float32);
    }

    /// <summary>The CPU (exact) for the CPU device, the GPU for GPU 0.</summary>
    private sealed class SplitFactory(ComputePrecision precision) : IBackendFactory
    {
        public IBackend Create(DeviceRef device) =>
            device.Kind == DeviceKind.Cpu ? new CpuBackend(precision: ComputePrecision.Float32) : CudaBackend.Create(device.Id, precision);
    }
}
