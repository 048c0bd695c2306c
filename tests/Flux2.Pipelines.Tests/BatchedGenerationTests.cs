using Flux2.Core;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>Images denoised together as one transformer batch (<see cref="PipelineOptions.MaxBatch"/>), within a request and
/// across requests (<see cref="Flux2Pipeline.GenerateTogether"/>): every image is the one it is alone, and each request is
/// reported, cancelled and failed on its own.</summary>
public sealed class BatchedGenerationTests(TinyKleinModel klein) : IClassFixture<TinyKleinModel>
{
    private static GenerationRequest Small(GenerationRequest request) => request with { Width = 32, Height = 48, Steps = 4 };

    /// <summary>The same images up to the order of fp32 sums, which a GEMM over more rows may block differently: latents within
    /// 1e-5, pixels within one level (measured on this suite's cases: latents at most 1.1e-6 apart, pixels at most one
    /// level; the bound leaves room for another processor's GEMM kernels).</summary>
    private static void AssertSameImages(GenerationResult expected, GenerationResult actual)
    {
        Assert.Equal(expected.Images.Count, actual.Images.Count);
        for (int k = 0; k < expected.Images.Count; k++)
        {
            var (e, a) = (expected.Images[k], actual.Images[k]);
            Assert.Equal(e.Seed, a.Seed);
            Assert.Equal(e.PromptIndex, a.PromptIndex);
            double latents = e.Latents.Zip(a.Latents, (x, y) => Math.Abs(x - y) / Math.Max(1, Math.Abs(x))).Max();
            Assert.True(latents <= 1e-5, $"image {k}: latents differ by {latents}");
            int pixels = e.Image.Pixels.Zip(a.Image.Pixels, (x, y) => Math.Abs(x - y)).Max();
            Assert.True(pixels <= 1, $"image {k}: pixels differ by {pixels}");
        }
    }

    [Fact]
    public void BatchedImagesEqualTheirOneByOneRuns()
    {
        using var single = TestPipeline.Load(klein.Folder);
        using var batched = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 3 });
        // Two prompts × two images in batches of 3 and 1: the first batch mixes the prompts.
        var request = Small(new GenerationRequest { Prompts = ["a red fox", "a lighthouse at dusk"], NumImages = 2, Seed = 10 });
        var steps = new List<(int Image, int Step, int BatchSize)>();
        var written = new List<int>();
        var together = batched.Generate(request with { OnStep = s => steps.Add((s.Image, s.Step, s.BatchSize)), OnImage = (i, _) => written.Add(i.Index) });

        AssertSameImages(single.Generate(request), together);
        Assert.NotEqual(together.Images[0].Latents, together.Images[1].Latents);
        Assert.Equal([0, 1, 2, 3], written);
        var expectedSteps = new List<(int, int, int)>();
        for (int step = 1; step <= 4; step++) expectedSteps.AddRange([(0, step, 3), (1, step, 3), (2, step, 3)]);
        for (int step = 1; step <= 4; step++) expectedSteps.Add((3, step, 1));
        Assert.Equal(expectedSteps, steps);
    }

    [Fact]
    public void BatchedGuidanceAndReferencesEqualTheirOneByOneRuns()
    {
        using var dir = new TempDirectory();
        TinyModelFolders.Klein(dir.File("klein-base"), distilled: false);
        using var single = TestPipeline.Load(dir.File("klein-base"));
        using var batched = TestPipeline.Load(dir.File("klein-base"), options: new PipelineOptions { MaxBatch = 2 });
        var pixels = Enumerable.Range(0, 64 * 80 * 3).Select(i => (byte)(i * 7 % 251)).ToArray();
        var request = Small(new GenerationRequest
        {
            Prompt = "the same scene at night", NegativePrompt = "blurry", Guidance = 3.5, NumImages = 3, Seed = 4, Steps = 2,
            ReferenceImages = [new("scene", new RgbImage(64, 80, pixels))],
        });
        AssertSameImages(single.Generate(request), batched.Generate(request));
    }

    [Fact]
    public void RequestsGeneratedTogetherEqualTheirOwnRunsAndAreReportedOnTheirOwn()
    {
        using var pipeline = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 4 });
        var fox = pipeline.Prepare(Small(new GenerationRequest { Prompt = "a red fox", Seed = 3 }));
        var lighthouse = pipeline.Prepare(Small(new GenerationRequest { Prompt = "a lighthouse at dusk", NumImages = 2, Seed = 7 }));
        var foxSteps = new List<(int, int)>();
        var lighthouseSteps = new List<(int, int)>();
        var lighthouseImages = new List<int>();
        var outcomes = pipeline.GenerateTogether(
        [
            (fox with { Request = fox.Request with { OnStep = s => foxSteps.Add((s.Image, s.Images)) } }, default),
            (lighthouse with { Request = lighthouse.Request with { OnStep = s => lighthouseSteps.Add((s.Image, s.Images)), OnImage = (i, _) => lighthouseImages.Add(i.Index) } }, default),
        ]);

        AssertSameImages(pipeline.Generate(fox), outcomes[0].Result!);
        AssertSameImages(pipeline.Generate(lighthouse), outcomes[1].Result!);
        Assert.Equal(Enumerable.Repeat((0, 1), 4), foxSteps);
        Assert.Equal(4, lighthouseSteps.Count(s => s == (0, 2)));
        Assert.Equal(4, lighthouseSteps.Count(s => s == (1, 2)));
        Assert.Equal([0, 1], lighthouseImages);
    }

    [Fact]
    public void ACancelledRequestStopsBeingReportedWhileTheOthersFinish()
    {
        using var pipeline = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 2 });
        using var stop = new CancellationTokenSource();
        int cancelledSteps = 0;
        var leaving = pipeline.Prepare(Small(new GenerationRequest
        {
            Prompt = "a red fox", Seed = 3,
            OnStep = s =>
            {
                cancelledSteps++;
                if (s.Step == 2) stop.Cancel();
            },
        }));
        var staying = pipeline.Prepare(Small(new GenerationRequest { Prompt = "a lighthouse at dusk", Seed = 7 }));
        var outcomes = pipeline.GenerateTogether([(leaving, stop.Token), (staying, default)]);

        Assert.IsType<OperationCanceledException>(outcomes[0].Error);
        Assert.Null(outcomes[0].Result);
        Assert.Equal(2, cancelledSteps);
        AssertSameImages(pipeline.Generate(staying), outcomes[1].Result!);
    }

    [Fact]
    public void WhenEveryRequestIsCancelledTheCallStops()
    {
        using var pipeline = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 2 });
        using var stop = new CancellationTokenSource();
        int steps = 0;
        var request = pipeline.Prepare(Small(new GenerationRequest
        {
            Prompt = "a red fox", NumImages = 2, Seed = 3,
            OnStep = _ =>
            {
                if (++steps == 2) stop.Cancel();
            },
        }));
        Assert.ThrowsAny<OperationCanceledException>(() => pipeline.GenerateTogether([(request, stop.Token), (request, stop.Token)]));
        Assert.Equal(2, steps);
    }

    [Fact]
    public void APromptThatCannotBeEncodedFailsOnlyItsRequest()
    {
        using var pipeline = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 2 });
        var tooLong = pipeline.Prepare(Small(new GenerationRequest { Prompt = string.Join(' ', Enumerable.Repeat("fox", 600)), StrictPromptLength = true, Seed = 1 }));
        var fine = pipeline.Prepare(Small(new GenerationRequest { Prompt = "a lighthouse at dusk", Seed = 7 }));
        var outcomes = pipeline.GenerateTogether([(tooLong, default), (fine, default)]);

        Assert.Contains("512", Assert.IsAssignableFrom<Flux2Exception>(outcomes[0].Error).Message);
        AssertSameImages(pipeline.Generate(fine), outcomes[1].Result!);
        // Alone, the request throws its error as before.
        Assert.Contains("512", Assert.ThrowsAny<Flux2Exception>(() => pipeline.Generate(tooLong)).Message);
    }

    [Fact]
    public void CachedGenerationsRunOneImageAtATime()
    {
        using var single = TestPipeline.Load(klein.Folder);
        using var batched = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 4 });
        var request = Small(new GenerationRequest
        {
            Prompt = "a red fox", NumImages = 2, Seed = 3, Steps = 6, AllowAnyStepCount = true,
            Cache = new TaylorSeerOptions { Interval = 2, Warmup = 2 },
        });
        var sizes = new List<int>();
        var result = batched.Generate(request with { OnStep = s => sizes.Add(s.BatchSize) });
        Assert.All(sizes, size => Assert.Equal(1, size));
        AssertSameImages(single.Generate(request), result);
    }

    [Fact]
    public void ABatchHoldsNoMorePixelsThanOneRequestMay()
    {
        using var pipeline = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 4, MaxPixelsPerRequest = 3 * 32 * 48 });
        var sizes = new List<int>();
        pipeline.Generate(Small(new GenerationRequest { Prompt = "a red fox", NumImages = 3, Seed = 3, OnStep = s => sizes.Add(s.BatchSize) }));
        Assert.All(sizes, size => Assert.Equal(3, size));
        Assert.Equal(12, sizes.Count);
    }

    [Fact]
    public void OnlyRequestsOfTheSameShapeShareABatch()
    {
        using var pipeline = TestPipeline.Load(klein.Folder, options: new PipelineOptions { MaxBatch = 2 });
        var basic = Small(new GenerationRequest { Prompt = "a red fox", Seed = 1 });
        var prepared = pipeline.Prepare(basic);
        Assert.True(prepared.CanShareBatchWith(pipeline.Prepare(basic with { Prompt = "a lighthouse", NumImages = 3, Seed = 9 })));
        var reference = new ReferenceImage("r", new RgbImage(64, 64, new byte[64 * 64 * 3]));
        foreach (var other in new[]
        {
            basic with { Width = 48 }, basic with { Height = 64 }, basic with { Steps = 3, AllowAnyStepCount = true },
            basic with { ReferenceImages = [reference] }, basic with { Cache = new FirstBlockCacheOptions() },
        })
        {
            var unlike = pipeline.Prepare(other);
            Assert.False(prepared.CanShareBatchWith(unlike));
            Assert.False(unlike.CanShareBatchWith(prepared));
            Assert.Throws<ArgumentException>(() => pipeline.GenerateTogether([(prepared, default), (unlike, default)]));
        }
        Assert.Contains("[1, 64]", Assert.Throws<PipelineException>(() => new PipelineOptions { MaxBatch = 0 }).Message);
        Assert.Contains("[1, 64]", Assert.Throws<PipelineException>(() => new PipelineOptions { MaxBatch = 65 }).Message);
    }
}
