namespace Flux2.Pipelines.Tests;

public class GenerationPlanTests
{
    private static GenerationPlan Resolve(GenerationRequest request, PipelineVariant variant = PipelineVariant.Dev) =>
        GenerationPlan.Resolve(request with { Prompt = request.Prompt ?? "a cat" }, variant, null);

    [Theory]
    [InlineData(PipelineVariant.Dev, 50, false)]
    [InlineData(PipelineVariant.KleinDistilled, 4, false)]
    [InlineData(PipelineVariant.KleinBase, 50, true)]
    public void DefaultsPerVariant(PipelineVariant variant, int steps, bool cfg)
    {
        var plan = Resolve(new GenerationRequest(), variant);
        Assert.Equal((1024, 1024, steps, 4.0, cfg), (plan.Width, plan.Height, plan.Steps, plan.Guidance, plan.UseCfg));
        Assert.Equal(4096, plan.ImageTokens);
        Assert.Single(plan.Seeds);
    }

    [Fact]
    public void SizeDefaultsToTheFirstReference()
    {
        var plan = GenerationPlan.Resolve(new GenerationRequest { Prompt = "x" }, PipelineVariant.Dev, (320, 192));
        Assert.Equal((320, 192), (plan.Width, plan.Height));
        Assert.Equal((12, 20), (plan.GridHeight, plan.GridWidth));
    }

    [Fact]
    public void SizesMustBeMultiplesOf16UnlessFlooring()
    {
        Assert.Contains("width 100", Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Width = 100, Height = 64 })).Message);
        Assert.Contains("height 0", Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Width = 64, Height = 0 })).Message);
        var plan = Resolve(new GenerationRequest { Width = 100, Height = 70, FloorSizeToMultipleOf16 = true });
        Assert.Equal((96, 64), (plan.Width, plan.Height));
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Width = 10, Height = 64, FloorSizeToMultipleOf16 = true }));
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Width = 16 * 1024, Height = 64 }));
    }

    [Fact]
    public void DistilledKleinRunsFourStepsUnlessOverridden()
    {
        var e = Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Steps = 8 }, PipelineVariant.KleinDistilled));
        Assert.Contains("4 steps", e.Message);
        Assert.Equal(8, Resolve(new GenerationRequest { Steps = 8, AllowAnyStepCount = true }, PipelineVariant.KleinDistilled).Steps);
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Steps = 0 }));
    }

    [Fact]
    public void GuidanceRules()
    {
        Assert.Contains(Resolve(new GenerationRequest { Guidance = 3 }, PipelineVariant.KleinDistilled).Notices, n => n.Contains("ignored"));
        Assert.False(Resolve(new GenerationRequest { Guidance = 1 }, PipelineVariant.KleinBase).UseCfg);
        Assert.True(Resolve(new GenerationRequest { Guidance = 1.5 }, PipelineVariant.KleinBase).UseCfg);
        Assert.False(Resolve(new GenerationRequest { Guidance = 7 }, PipelineVariant.Dev).UseCfg);
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Guidance = double.NaN }));
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Guidance = -1 }));
        var e = Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { NegativePrompt = "blurry" }, PipelineVariant.Dev));
        Assert.Contains("klein-base", e.Message);
    }

    [Fact]
    public void SeedsAreConsecutiveAndRandomWhenNotGiven()
    {
        Assert.Equal([ulong.MaxValue, 0UL, 1UL], Resolve(new GenerationRequest { Seed = ulong.MaxValue, NumImages = 3 }).Seeds);
        Assert.NotEqual(Resolve(new GenerationRequest()).Seeds[0], Resolve(new GenerationRequest()).Seeds[0]);
    }

    [Fact]
    public void RejectsEmptyPromptsBadCountsAndMisSizedLatents()
    {
        Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(new GenerationRequest { Prompt = "" }, PipelineVariant.Dev, null));
        // Only an empty prompt is an error (as in the reference); whitespace is a prompt like any other.
        Assert.Equal(1024, GenerationPlan.Resolve(new GenerationRequest { Prompt = " " }, PipelineVariant.Dev, null).Width);
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { NumImages = 0 }));
        var e = Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Width = 32, Height = 32, InitialLatents = new float[10] }));
        Assert.Contains("[1, 128, 2, 2]", e.Message);
        Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest
        {
            MaxReferenceImages = 0,
            ReferenceImages = [new("r", new Pipelines.Images.RgbImage(64, 64, new byte[64 * 64 * 3]))],
        }));
    }

    [Fact]
    public void LatentIds()
    {
        Assert.Equal([10, 0, 0, 0, 10, 0, 1, 0, 10, 1, 0, 0, 10, 1, 1, 0], Pipelines.LatentIds.Image(2, 2, Pipelines.LatentIds.ReferenceTime(0)));
        Assert.Equal(20, Pipelines.LatentIds.ReferenceTime(1));
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2], Pipelines.LatentIds.Text(3));
    }
    [Fact]
    public void WidthTimesHeightTimesImagesIsCheckedAgainstTheRequestBudget()
    {
        Assert.Equal(8192, Resolve(new GenerationRequest { Width = 8192, Height = 8192 }).Width);
        var e = Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Width = 8192, Height = 8192, NumImages = 16 }));
        Assert.Equal("16 image(s) of 8192x8192 are 1073741824 pixels, more than the 67108864-pixel budget of one request", e.Message);
        e = Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(
            new GenerationRequest { Prompts = ["a", "b"], Width = 64, Height = 64, NumImages = 2 }, PipelineVariant.Dev, null, maxPixels: 4 * 64 * 64 - 1));
        Assert.StartsWith("4 image(s) of 64x64 are 16384 pixels", e.Message);
    }

    [Fact]
    public void PromptsAreCappedInCharactersBeforeTokenizing()
    {
        var longest = new string('x', GenerationPlan.MaxPromptCharacters);
        Assert.Equal(1, Resolve(new GenerationRequest { Prompt = longest }).PromptCount);
        var tooLong = longest + "x";
        Assert.StartsWith("the prompt is 65537 characters long, more than the 65536 read",
            Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Prompt = tooLong })).Message);
        Assert.StartsWith("prompt 2 of 2 is 65537 characters long",
            Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(new GenerationRequest { Prompts = ["a", tooLong] }, PipelineVariant.Dev, null)).Message);
        Assert.StartsWith("the negative prompt is 65537 characters long",
            Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { NegativePrompt = tooLong }, PipelineVariant.KleinBase)).Message);
    }

    [Fact]
    public void PromptsWithCharactersImageMetadataCannotStoreAreRefused()
    {
        Assert.Equal(1, Resolve(new GenerationRequest { Prompt = "tab\t, lines\r\n, 🦊, \u007f" }).PromptCount);
        Assert.StartsWith("the prompt holds U+0000 at character 2, which image metadata cannot store",
            Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { Prompt = "a\0b" })).Message);
        Assert.StartsWith("prompt 2 of 2 holds U+D83E at character 3",
            Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(new GenerationRequest { Prompts = ["a", "ab\ud83e"] }, PipelineVariant.Dev, null)).Message);
        Assert.StartsWith("the negative prompt holds U+001B at character 1",
            Assert.Throws<PipelineException>(() => Resolve(new GenerationRequest { NegativePrompt = "\u001b[0m" }, PipelineVariant.KleinBase)).Message);
    }

    [Fact]
    public void MemoryEstimateGrowsWithTheImageAndMatchesTheMeasuredScale()
    {
        var klein = Models.Flux2Config.Klein4B();
        var vae = new Models.Vae.VaeConfig();
        long At(int side) => GenerationMemory.EstimateBytes(klein, vae, Resolve(new GenerationRequest { Width = side, Height = side }), 0, 4);
        // Measured (README): a 1024² decode peaks at 2.76 GB; a 512² klein-4B step at 0.7 GB above its weights.
        Assert.InRange(At(1024), 2.0e9, 3.5e9);
        Assert.InRange(At(512), 0.4e9, 1.2e9);
        Assert.True(At(8192) > 100e9, $"{At(8192)}");
    }

    [Fact]
    public void KleinKvsReferenceCacheIsCounted()
    {
        var klein9B = Models.Flux2Config.Klein9B();
        var plan = Resolve(new GenerationRequest { Width = 1024, Height = 1024 }, PipelineVariant.KleinKv);
        long standard = GenerationMemory.EstimateBytes(klein9B, new Models.Vae.VaeConfig(), plan, 4096, 4);
        long cached = GenerationMemory.EstimateBytes(klein9B, new Models.Vae.VaeConfig(), plan, 4096, 4, cachesReferences: true);
        // 8 double + 24 single blocks, 4096 reference tokens, keys and values of 4096 values each, fp32.
        Assert.Equal(32L * 4096 * 2 * 4096 * 4, cached - standard);
    }
}
