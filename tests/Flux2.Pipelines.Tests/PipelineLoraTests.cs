using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary><see cref="PipelineOptions.Loras"/> reach the transformer the pipeline loads (the side path itself is checked
/// against merged weights in the model tests).</summary>
public sealed class PipelineLoraTests : IClassFixture<TinyDevModel>
{
    private readonly TinyDevModel _model;

    public PipelineLoraTests(TinyDevModel model) => _model = model;

    /// <summary>A BFL / ai-toolkit LoRA on tiny_dev's single block 0 output projection ([128, 512]), and one tensor of a text encoder.</summary>
    private static string WriteLora(TempDirectory dir)
    {
        var random = new Random(9);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5) * 0.2f).ToArray();
        var w = new SafeTensorsWriter();
        w.AddFloat32("diffusion_model.single_blocks.0.linear2.lora_A.weight", [4, 512], Values(4 * 512));
        w.AddFloat32("diffusion_model.single_blocks.0.linear2.lora_B.weight", [128, 4], Values(128 * 4));
        w.AddFloat32("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", [], [4f]);
        var path = dir.File("lora.safetensors");
        w.Write(path);
        return path;
    }

    private float[] Latents(string backend, PipelineOptions options)
    {
        using var pipeline = TestPipeline.Load(_model.Folder, backend, options);
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        using var inputs = new GoldenPipelineInputs(io, pipeline.Backend);
        if (options.Loras.Count > 0) Assert.Contains("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", Assert.Single(pipeline.LoadWarnings));
        return pipeline.Generate(inputs.Request()).Images[0].Latents;
    }

    public static TheoryData<string> Backends => new(TestBackends.Names);

    [Theory]
    [MemberData(nameof(Backends))]
    public void ALoraChangesTheImageByItsStrength(string backend)
    {
        using var dir = new TempDirectory();
        var lora = WriteLora(dir);
        var plain = Latents(backend, new PipelineOptions());
        var off = Latents(backend, new PipelineOptions { Loras = [new LoraFile(lora, 0f)], LenientLoraKeys = true });
        var on = Latents(backend, new PipelineOptions { Loras = [new LoraFile(lora, 1f)], LenientLoraKeys = true });
        Assert.Equal(plain, off);
        Assert.True(FloatComparison.MaxAbsDiff(plain, on) > 1e-3f);
    }

    /// <summary>A request's LoRAs replace the pipeline's for its generation; a file that does not fit is refused and leaves
    /// the pipeline as it was; the next request without LoRAs runs the pipeline's own again.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void ARequestsLorasReplaceThePipelinesForItsGeneration(string backend)
    {
        using var dir = new TempDirectory();
        var lora = WriteLora(dir);
        var bad = dir.File("bad.safetensors");
        var w = new SafeTensorsWriter();
        w.AddFloat32("diffusion_model.single_blocks.0.linear2.lora_A.weight", [4, 100], new float[400]);
        w.AddFloat32("diffusion_model.single_blocks.0.linear2.lora_B.weight", [128, 4], new float[512]);
        w.Write(bad);
        var plain = Latents(backend, new PipelineOptions());
        var withLora = Latents(backend, new PipelineOptions { Loras = [new LoraFile(lora)], LenientLoraKeys = true });

        using var pipeline = TestPipeline.Load(_model.Folder, backend, new PipelineOptions { LenientLoraKeys = true });
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        using var inputs = new GoldenPipelineInputs(io, pipeline.Backend);
        var notices = new List<string>();
        var result = pipeline.Generate(inputs.Request() with { Loras = [new LoraFile(lora)], OnNotice = notices.Add });
        Assert.Equal(withLora, result.Images[0].Latents);
        Assert.Equal([new LoraFile(lora)], result.Plan.Loras);
        Assert.Equal([new LoraFile(lora)], pipeline.Loras);
        Assert.Contains(notices, n => n.Contains("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha"));

        var e = Assert.Throws<LoraException>(() => pipeline.Generate(inputs.Request() with { Loras = [new LoraFile(bad)] }));
        Assert.Contains("bad.safetensors: tensor 'diffusion_model.single_blocks.0.linear2.lora_A.weight'", e.Message);
        Assert.Equal([new LoraFile(lora)], pipeline.Loras);

        Assert.Equal(plain, pipeline.Generate(inputs.Request()).Images[0].Latents);
        Assert.Empty(pipeline.Loras);
    }

    /// <summary>A DoRA module (LyCORIS keys with <c>dora_scale</c>) is resolved against the weights the pipeline loaded, as the
    /// pipeline's LoRA and as a request's: at strength 0 it leaves the image as it was, bit for bit; at 1 it changes it, the
    /// same either way.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void ADoraModuleIsResolvedAgainstTheLoadedWeights(string backend)
    {
        using var dir = new TempDirectory();
        var random = new Random(10);
        float[] Values(int n, float center, float spread) => Enumerable.Range(0, n).Select(_ => center + (float)(random.NextDouble() - 0.5) * spread).ToArray();
        var w = new SafeTensorsWriter();
        w.AddFloat32("lycoris_single_blocks_0_linear2.lora_down.weight", [4, 512], Values(4 * 512, 0, 0.2f));
        w.AddFloat32("lycoris_single_blocks_0_linear2.lora_up.weight", [128, 4], Values(128 * 4, 0, 0.2f));
        w.AddFloat32("lycoris_single_blocks_0_linear2.dora_scale", [128, 1], Values(128, 1, 0.5f));
        w.AddFloat32("lora_te_text_model_encoder_layers_0_mlp_fc1.alpha", [], [4f]); // as in WriteLora: skipped leniently
        var dora = dir.File("dora.safetensors");
        w.Write(dora);
        var plain = Latents(backend, new PipelineOptions());
        Assert.Equal(plain, Latents(backend, new PipelineOptions { Loras = [new LoraFile(dora, 0f)], LenientLoraKeys = true }));
        var on = Latents(backend, new PipelineOptions { Loras = [new LoraFile(dora)], LenientLoraKeys = true });
        Assert.True(FloatComparison.MaxAbsDiff(plain, on) > 1e-3f);
        Assert.All(on, v => Assert.True(float.IsFinite(v)));

        using var pipeline = TestPipeline.Load(_model.Folder, backend, new PipelineOptions { LenientLoraKeys = true });
        using var io = SafeTensorsFile.Open(Fixtures.Golden("pipe_t2i.io.safetensors"));
        using var inputs = new GoldenPipelineInputs(io, pipeline.Backend);
        Assert.Equal(on, pipeline.Generate(inputs.Request() with { Loras = [new LoraFile(dora)] }).Images[0].Latents);
    }

    [Fact]
    public void AStrictLoadNamesTheTensorsThatAdaptNoLayer()
    {
        using var dir = new TempDirectory();
        var lora = WriteLora(dir);
        var e = Assert.Throws<LoraException>(() => TestPipeline.Load(_model.Folder, options: new PipelineOptions { Loras = [new LoraFile(lora)] }));
        Assert.Contains($"{lora}: 1 tensor adapts no layer of this transformer: 'lora_te_text_model_encoder_layers_0_mlp_fc1.alpha'", e.Message);
    }
}
