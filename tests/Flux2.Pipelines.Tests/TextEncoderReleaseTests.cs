using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary><see cref="PipelineOptions.ReleaseTextEncoderAfterUse"/>: the encoder serves every prompt of the first
/// generation (negative included), then its weights are unmapped, and later prompts are refused with a clear message
/// while precomputed embeddings still work.</summary>
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
}
