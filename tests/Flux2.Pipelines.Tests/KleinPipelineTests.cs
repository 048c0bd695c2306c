using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>klein-base through the real pipeline: prompt encoding with the Qwen3 tokenizer and a tiny random Qwen3,
/// true classifier-free guidance (on only when guidance &gt; 1). The text-encoder release option: <see cref="TextEncoderReleaseTests"/>.</summary>
public sealed class KleinPipelineTests : IClassFixture<KleinPipelineTests.KleinBase>
{
    public sealed class KleinBase : IDisposable
    {
        public TempDirectory Dir { get; } = new();
        public Flux2Pipeline Pipeline { get; }

        public KleinBase()
        {
            TinyModelFolders.Klein(Dir.File("klein-base"), distilled: false);
            Pipeline = TestPipeline.Load(Dir.File("klein-base"));
        }

        public void Dispose()
        {
            Pipeline.Dispose();
            Dir.Dispose();
        }
    }

    private readonly KleinBase _model;
    private readonly Flux2Pipeline _pipeline;

    public KleinPipelineTests(KleinBase model) => (_model, _pipeline) = (model, model.Pipeline);

    private (byte[] Pixels, int Forwards) Run(double guidance, string? negative = null) => Run(_pipeline, guidance, negative);

    private static (byte[] Pixels, int Forwards) Run(Flux2Pipeline pipeline, double guidance, string? negative = null)
    {
        int steps = 0;
        var result = pipeline.Generate(new GenerationRequest
        {
            Prompt = "a lighthouse",
            NegativePrompt = negative,
            Width = 32,
            Height = 32,
            Steps = 2,
            Guidance = guidance,
            Seed = 5,
            OnStep = _ => steps++,
        });
        Assert.Equal(2, steps);
        return (result.Images[0].Image.Pixels, result.Plan.UseCfg ? 2 : 1);
    }

    [Fact]
    public void TheOpaqueBackendGivesTheSameGuidedImage()
    {
        // Prompt encoding, both CFG streams, the Euler steps and the decode on memory the pipeline cannot see into.
        using var opaque = TestPipeline.Load(_model.Dir.File("klein-base"), TestBackends.Opaque);
        Assert.Equal(Run(4.0, "blurry").Pixels, Run(opaque, 4.0, "blurry").Pixels);
    }

    [Fact]
    public void CfgChangesTheImageOnlyAboveOne()
    {
        Assert.Equal(PipelineVariant.KleinBase, _pipeline.Variant);
        var plain = Run(1.0);
        var guided = Run(4.0);
        var guidedOtherNegative = Run(4.0, "blurry, dark");
        Assert.Equal(1, plain.Forwards);
        Assert.Equal(2, guided.Forwards);
        Assert.NotEqual(plain.Pixels, guided.Pixels);
        Assert.NotEqual(guided.Pixels, guidedOtherNegative.Pixels);
        Assert.Equal(guided.Pixels, Run(4.0, "").Pixels); // the default negative prompt is ""
    }
}
