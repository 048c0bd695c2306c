using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

public class PipelineLoadingTests
{
    [Fact]
    public void AssemblesBflFilesAndMatchesTheGoldenPipeline()
    {
        // The BFL single-file transformer and ae.safetensors-style VAE give the diffusers pipeline's result too.
        using var pipeline = TestPipeline.Assemble(new PipelineComponents
        {
            Transformer = Fixtures.Golden("tiny_dev.bfl.safetensors"),
            Vae = Fixtures.Golden("vae_small.bfl.safetensors"),
        });
        Assert.Equal(PipelineVariant.Dev, pipeline.Variant); // guidance embedder present
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        using var prompt = PromptEmbedding.Upload(pipeline.Backend, io.Get("inputs.prompt_embeds").ToFloat32Array(), 20, 96);
        var result = pipeline.Generate(new GenerationRequest
        {
            PromptEmbedding = prompt,
            Width = 128,
            Height = 96,
            Steps = 4,
            InitialLatents = io.Get("inputs.noise").ToFloat32Array(),
        });
        PipelineGoldenTests.AssertClose(io, "outputs.latents_final", result.Images[0].Latents, 1e-4, 1e-4);
    }

    [Fact]
    public void PromptsNeedATextEncoder()
    {
        using var dir = new TempDirectory();
        TinyModelFolders.Dev(dir.File("dev"));
        using var pipeline = TestPipeline.Load(dir.File("dev"));
        var e = Assert.Throws<PipelineException>(() => pipeline.Generate(new GenerationRequest { Prompt = "a cat", Width = 32, Height = 32, Steps = 1 }));
        Assert.Contains("text encoder", e.Message);
    }

    [Fact]
    public void SpecialFilesInsideTheModelFolderAreRefusedByNameWithoutBlocking()
    {
        using var dir = new TempDirectory();
        var folder = dir.File("dev");
        TinyModelFolders.Dev(folder);
        var config = Path.Combine(folder, "transformer", "config.json");
        var original = File.ReadAllText(config);
        File.Delete(config);
        SpecialFiles.Fifo(config);
        SpecialFiles.FinishesPromptly(config, () =>
        {
            Assert.Contains($"{config}: is a FIFO (named pipe), not a regular file", Assert.ThrowsAny<Flux2Exception>(() => TestPipeline.Load(folder)).Message);
            var inspection = Models.Checkpoints.CheckpointInspector.Inspect(folder);
            Assert.Contains(inspection.Components.SelectMany(c => c.Problems), p => p.Contains($"{config}: is a FIFO (named pipe), not a regular file"));
        });
        File.Delete(config);
        File.WriteAllText(config, original);
        var weights = Path.Combine(folder, "vae", "diffusion_pytorch_model.safetensors");
        File.Delete(weights);
        SpecialFiles.LinkToDevZero(weights);
        Assert.Contains("is a character device, not a regular file", Assert.ThrowsAny<Flux2Exception>(() => TestPipeline.Load(folder)).Message);
    }

    [Fact]
    public void FolderProblemsAreNamed()
    {
        using var dir = new TempDirectory();
        Assert.Contains("not found", Assert.Throws<PipelineException>(() => TestPipeline.Load(dir.File("absent"))).Message);
        Assert.Contains("model_index.json", Assert.Throws<PipelineException>(() => TestPipeline.Load(dir.Path)).Message);
        File.WriteAllText(dir.File("model_index.json"), """{"_class_name": "StableDiffusionPipeline"}""");
        Assert.Contains("StableDiffusionPipeline", Assert.Throws<PipelineException>(() => TestPipeline.Load(dir.Path)).Message);
        File.WriteAllText(dir.File("model_index.json"), """{"_class_name": "Flux2Pipeline"}""");
        Assert.Contains("transformer/", Assert.Throws<PipelineException>(() => TestPipeline.Load(dir.Path)).Message);
        Directory.CreateDirectory(dir.File("scheduler"));
        File.WriteAllText(Path.Combine(dir.Path, "scheduler", "scheduler_config.json"), """{"use_dynamic_shifting": false}""");
        Assert.Contains("use_dynamic_shifting", Assert.Throws<PipelineException>(() => TestPipeline.Load(dir.Path)).Message);
    }
}
