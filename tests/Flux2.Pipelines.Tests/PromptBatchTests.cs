using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>Several prompts in one call (diffusers' <c>prompt=[...]</c>): images are prompt-major, image i has seed + i and
/// is exactly the image its prompt and seed give alone.</summary>
public sealed class PromptBatchTests(TinyKleinModel klein, TinyDevModel dev) : IClassFixture<TinyKleinModel>, IClassFixture<TinyDevModel>
{
    private static GenerationRequest Small(GenerationRequest request) => request with { Width = 32, Height = 32, Steps = 4 };

    [Fact]
    public void EachPromptsImagesEqualTheirSingleRuns()
    {
        using var pipeline = TestPipeline.Load(klein.Folder);
        var batch = pipeline.Generate(Small(new GenerationRequest { Prompts = ["a red fox", "a lighthouse at dusk"], NumImages = 2, Seed = 10 }));
        Assert.Equal([0, 0, 1, 1], batch.Images.Select(i => i.PromptIndex));
        Assert.Equal([10UL, 11, 12, 13], batch.Images.Select(i => i.Seed));
        string[] prompts = ["a red fox", "a red fox", "a lighthouse at dusk", "a lighthouse at dusk"];
        for (int k = 0; k < 4; k++)
        {
            var alone = pipeline.Generate(Small(new GenerationRequest { Prompt = prompts[k], Seed = 10 + (ulong)k }));
            Assert.Equal(alone.Images[0].Latents, batch.Images[k].Latents);
            Assert.Equal(alone.Images[0].Image.Pixels, batch.Images[k].Image.Pixels);
        }
        Assert.NotEqual(batch.Images[0].Latents, batch.Images[2].Latents);
    }

    [Fact]
    public void BatchedEmbeddingsWithInjectedNoiseEqualTheirSingleRuns()
    {
        using var pipeline = TestPipeline.Load(dev.Folder);
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        var embeds = io.Get("inputs.prompt_embeds").ToFloat32Array();
        var other = embeds.Select(v => 0.5f * v + 0.1f).ToArray();
        var noise = io.Get("inputs.noise").ToFloat32Array();
        var otherNoise = noise.Reverse().ToArray();
        using var both = PromptEmbedding.Upload(pipeline.Backend, [.. embeds, .. other], 20, 96);
        var request = new GenerationRequest { Width = 128, Height = 96, Steps = 2 };
        var batch = pipeline.Generate(request with { PromptEmbedding = both, InitialLatents = [.. noise, .. otherNoise] });
        Assert.Equal(2, batch.Images.Count);
        foreach (var (k, e, n) in new[] { (0, embeds, noise), (1, other, otherNoise) })
        {
            using var single = PromptEmbedding.Upload(pipeline.Backend, e, 20, 96);
            var alone = pipeline.Generate(request with { PromptEmbedding = single, InitialLatents = n });
            Assert.Equal(alone.Images[0].Latents, batch.Images[k].Latents);
            Assert.Equal(alone.Images[0].Decoded, batch.Images[k].Decoded);
        }
    }

    [Fact]
    public void BadBatchesAreNamedErrors()
    {
        Assert.Contains("not several", Assert.Throws<PipelineException>(() =>
            GenerationPlan.Resolve(new GenerationRequest { Prompt = "a", Prompts = ["b"] }, PipelineVariant.Dev, null)).Message);
        Assert.Contains("prompt 2 of 3 is empty", Assert.Throws<PipelineException>(() =>
            GenerationPlan.Resolve(new GenerationRequest { Prompts = ["a", "", "c"] }, PipelineVariant.Dev, null)).Message);
        Assert.Contains("the prompt must not be empty", Assert.Throws<PipelineException>(() =>
            GenerationPlan.Resolve(new GenerationRequest { Prompts = [] }, PipelineVariant.Dev, null)).Message);
        Assert.Contains("3 prompts × 100 images", Assert.Throws<PipelineException>(() =>
            GenerationPlan.Resolve(new GenerationRequest { Prompts = ["a", "b", "c"], NumImages = 100 }, PipelineVariant.Dev, null)).Message);
        using var backend = Flux2.Testing.TestBackends.Create(Flux2.Testing.TestBackends.Cpu);
        using var three = PromptEmbedding.Upload(backend, new float[3 * 2 * 4], 2, 4);
        Assert.Contains("3 negative prompt embeddings for 2 prompts", Assert.Throws<PipelineException>(() => GenerationPlan.Resolve(
            new GenerationRequest { Prompts = ["a", "b"], NegativePromptEmbedding = three }, PipelineVariant.KleinBase, null)).Message);
        var plan = GenerationPlan.Resolve(new GenerationRequest { Prompts = ["a", "b"], NumImages = 3, Seed = 5 }, PipelineVariant.Dev, null);
        Assert.Equal((2, 3, 6), (plan.PromptCount, plan.ImagesPerPrompt, plan.Seeds.Count));
        Assert.Equal(1, plan.PromptIndex(4));
    }
}
