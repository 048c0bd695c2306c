using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Images;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>klein 9B-KV (<c>Flux2KleinKVPipeline</c> in model_index.json) through the real pipeline, on the tiny klein
/// model: without reference images it is the distilled klein model; with them, the first step runs the references and
/// the later steps read their cached keys and values (the transformer's passes: Flux2TransformerReferenceKvTests; the
/// loop: DenoisingLoopTests).</summary>
public sealed class KleinKvPipelineTests : IClassFixture<KleinKvPipelineTests.Models>
{
    /// <summary>The same tiny weights as the distilled klein model and as klein 9B-KV.</summary>
    public sealed class Models : IDisposable
    {
        private readonly TinyKleinModel _klein = new();
        private readonly TinyKleinKvModel _kv = new();

        public Models()
        {
            Distilled = TestPipeline.Load(_klein.Folder);
            Kv = TestPipeline.Load(_kv.Folder);
        }

        public Flux2Pipeline Distilled { get; }
        public Flux2Pipeline Kv { get; }
        public string KvFolder => _kv.Folder;

        public void Dispose()
        {
            Distilled.Dispose();
            Kv.Dispose();
            _klein.Dispose();
            _kv.Dispose();
        }
    }

    private readonly Models _models;

    public KleinKvPipelineTests(Models models) => _models = models;

    private static readonly ReferenceImage Reference = new("scene.png", Scene(80, 64));

    private static RgbImage Scene(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 37 % 251);
        return new RgbImage(width, height, pixels);
    }

    private static GenerationRequest Request(params ReferenceImage[] references) => new()
    {
        Prompt = "a lighthouse",
        Width = 32,
        Height = 32,
        Seed = 5,
        ReferenceImages = references,
    };

    private static byte[] Pixels(Flux2Pipeline pipeline, GenerationRequest request) => pipeline.Generate(request).Images[0].Image.Pixels;

    [Fact]
    public void TheModelIndexNamesTheVariant()
    {
        Assert.Equal(PipelineVariant.KleinKv, _models.Kv.Variant);
        Assert.Equal(4, _models.Kv.Variant.DefaultSteps());
        Assert.Equal("klein-kv (distilled, reference KV cache)", _models.Kv.Variant.DisplayName());
    }

    [Fact]
    public void WithoutReferencesItIsTheDistilledModel() =>
        Assert.Equal(Pixels(_models.Distilled, Request()), Pixels(_models.Kv, Request()));

    [Fact]
    public void AReferenceGoesThroughItsCache()
    {
        int steps = 0;
        var kv = _models.Kv.Generate(Request(Reference) with { OnStep = _ => steps++ });
        Assert.Equal(4, steps);
        // The reference tokens attend only to each other, at timestep 0: another image than the distilled model's edit.
        Assert.NotEqual(Pixels(_models.Distilled, Request(Reference)), kv.Images[0].Image.Pixels);
        Assert.Equal(kv.Images[0].Image.Pixels, Pixels(_models.Kv, Request(Reference)));
        // Two images of a batch share the references and their cache.
        var two = _models.Kv.Generate(Request(Reference) with { NumImages = 2 });
        Assert.Equal(kv.Images[0].Image.Pixels, two.Images[0].Image.Pixels);
    }

    [Fact]
    public void TheOpaqueBackendGivesTheSameEdit()
    {
        using var opaque = TestPipeline.Load(_models.KvFolder, TestBackends.Opaque);
        Assert.Equal(Pixels(_models.Kv, Request(Reference)), Pixels(opaque, Request(Reference)));
    }

    [Fact]
    public void AStepCacheIsRefusedWithReferencesOnly()
    {
        var e = Assert.Throws<PipelineException>(() => _models.Kv.Generate(Request(Reference) with { Cache = new TaylorSeerOptions() }));
        Assert.Contains("a step cache (First-Block-Cache, TaylorSeer) does not run with reference images on this model", e.Message);
        Assert.Equal(nameof(GenerationRequest.Cache), e.RequestField);
        Assert.Single(_models.Kv.Generate(Request() with { Cache = new TaylorSeerOptions() }).Images);
    }
}
