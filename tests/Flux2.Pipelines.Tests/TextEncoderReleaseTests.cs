using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary><see cref="PipelineOptions.ReleaseTextEncoderAfterUse"/>: the encoder serves every prompt of the first
/// generation (negative included), then its weights are unmapped, and later prompts are refused with a clear message
/// while precomputed embeddings still work. With <see cref="PipelineOptions.LoadTransformerAfterEncoding"/> as well, the
/// transformer's weights are loaded only after that, so the two models never hold memory together.</summary>
public sealed class TextEncoderReleaseTests(TextEncoderReleaseTests.KleinBase model) : IClassFixture<TextEncoderReleaseTests.KleinBase>
{
    public sealed class KleinBase() : TinyModelFixture("klein-base", folder => TinyModelFolders.Klein(folder, distilled: false));

    private readonly string _folder = model.Folder;

    private static GenerationRequest Request(string? prompt, PromptEmbedding? embedding = null, PromptEmbedding? negative = null) => new()
    {
        Prompt = prompt,
        PromptEmbedding = embedding,
        NegativePromptEmbedding = negative,
        Width = 32,
        Height = 32,
        Steps = 1,
        Guidance = 4.0, // klein-base with guidance > 1: the negative prompt ("") is encoded too
        Seed = 3,
    };

    /// <summary>Whether this process has the text encoder's weights file memory-mapped (Linux: /proc/self/maps).</summary>
    private bool TextEncoderIsMapped() =>
        File.ReadAllText("/proc/self/maps").Contains(Path.Combine(_folder, "text_encoder", "model.safetensors"), StringComparison.Ordinal);

    [Fact]
    public void TheEncoderIsReleasedOnceThePromptsAreEncoded()
    {
        using var pipeline = TestPipeline.Load(_folder, options: new PipelineOptions { ReleaseTextEncoderAfterUse = true });
        bool linux = OperatingSystem.IsLinux();
        if (linux) Assert.True(TextEncoderIsMapped());
        // Encoding alone does not release it: only a generation does, after its last prompt.
        using var positive = pipeline.EncodePrompt("a lighthouse");
        using var negative = pipeline.EncodePrompt("");

        var first = pipeline.Generate(Request("a lighthouse"));
        Assert.True(first.Plan.UseCfg);
        if (linux) Assert.False(TextEncoderIsMapped());

        var e = Assert.Throws<PipelineException>(() => pipeline.Generate(Request("a lighthouse")));
        Assert.Contains("the text encoder was released after use", e.Message);
        Assert.Contains("the text encoder was released after use", Assert.Throws<PipelineException>(() => pipeline.EncodePrompt("x")).Message);

        // Embeddings computed before the release still work, and give the image the prompts gave.
        var again = pipeline.Generate(Request(null, positive, negative));
        Assert.Equal(first.Images[0].Image.Pixels, again.Images[0].Image.Pixels);
    }

    [Fact]
    public void WithoutTheOptionTheEncoderStays()
    {
        using var pipeline = TestPipeline.Load(_folder);
        pipeline.Generate(Request("a lighthouse"));
        if (OperatingSystem.IsLinux()) Assert.True(TextEncoderIsMapped());
        using var embedding = pipeline.EncodePrompt("a lighthouse");
        Assert.Equal(3 * TinyModelFolders.TextHidden, embedding.Features);
    }

    [Fact]
    public void WithTheTransformerLoadedAfterEncodingTheEncoderIsGoneBeforeTheTransformerLoads()
    {
        var options = new PipelineOptions { ReleaseTextEncoderAfterUse = true, LoadTransformerAfterEncoding = true };
        var backends = new RecordingFactory(TextEncoderIsMapped);
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = _folder }, backends, options);
        var recorder = backends.Backend!;
        Assert.DoesNotContain(recorder.Events, IsTransformerLoad);
        Assert.Empty(pipeline.LoadWarnings);

        var deferred = pipeline.Generate(Request("a lighthouse"));
        int firstTransformerLoad = recorder.Events.FindIndex(IsTransformerLoad);
        Assert.True(firstTransformerLoad > recorder.Events.FindLastIndex(e => e.Op == "EmbeddingLookup"), "the transformer loaded before the prompts were encoded");
        if (OperatingSystem.IsLinux()) Assert.False(recorder.Events[firstTransformerLoad].EncoderMapped, "the text encoder was still mapped when the transformer loaded");

        // The same image as a pipeline that loads everything at once.
        using var eager = TestPipeline.Load(_folder);
        Assert.Equal(eager.Generate(Request("a lighthouse")).Images[0].Image.Pixels, deferred.Images[0].Image.Pixels);
    }

    // The tiny klein folder is in diffusers naming: the transformer's Linears are the embedders and transformer_blocks.
    private static bool IsTransformerLoad(RecordingBackend.Event e) =>
        e.Op == "LoadLinear" && (e.Name.Contains("transformer_blocks.", StringComparison.Ordinal) || e.Name.StartsWith("x_embedder", StringComparison.Ordinal));

    private sealed class RecordingFactory(Func<bool> encoderMapped) : IBackendFactory
    {
        public RecordingBackend? Backend { get; private set; }

        public IBackend Create(DeviceRef device) => Backend = new RecordingBackend(new CpuBackend(), encoderMapped);
    }

    /// <summary>Records weight loads (with whether the text encoder is mapped at that moment) and embedding lookups, in order.</summary>
    private sealed class RecordingBackend(IBackend inner, Func<bool> encoderMapped) : DelegatingBackend(inner)
    {
        public sealed record Event(string Op, string Name, bool EncoderMapped);

        public List<Event> Events { get; } = [];

        public override LinearWeight LoadLinear(LinearWeight stored)
        {
            Events.Add(new Event("LoadLinear", stored.Name, OperatingSystem.IsLinux() && encoderMapped()));
            return base.LoadLinear(stored);
        }

        public override void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output)
        {
            Events.Add(new Event("EmbeddingLookup", table.Name, false));
            base.EmbeddingLookup(table, ids, output);
        }
    }
}
