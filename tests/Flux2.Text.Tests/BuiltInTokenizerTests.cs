using Flux2.Tests;

namespace Flux2.Text.Tests;

/// <summary>The Qwen3 tokenizer built into the tool is the real one: the golden ids of every reference prompt, and the
/// same padding and special tokens as the files it was packed from.</summary>
public class BuiltInTokenizerTests
{
    private static readonly Lazy<PromptTokenizer> Klein = new(() => BuiltInTokenizer.Qwen3(PromptTemplate.Klein));

    [Theory]
    [MemberData(nameof(QwenTokenizerGoldenTests.Entries), MemberType = typeof(QwenTokenizerGoldenTests))]
    public void GivesTheReferenceIds(int index)
    {
        var entry = QwenTokenizerGoldenTests.Entry(index);
        var encoded = Klein.Value.Tokenize(entry.GetProperty("prompt").GetString()!);
        Assert.Equal(QwenTokenizerGoldenTests.Ints(entry, "input_ids"), encoded.InputIds);
        Assert.Equal(QwenTokenizerGoldenTests.Ints(entry, "attention_mask"), encoded.AttentionMask);
    }

    [Fact]
    public void IsTheTokenizerItWasPackedFrom()
    {
        var files = QwenTokenizerGoldenTests.Klein.Value;
        var builtIn = Klein.Value;
        Assert.Equal((files.PaddingSide, files.PadTokenId), (builtIn.PaddingSide, builtIn.PadTokenId));
        Assert.Equal(files.Tokenizer.SpecialTokens.OrderBy(t => t.Key, StringComparer.Ordinal),
            builtIn.Tokenizer.SpecialTokens.OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.Equal(BuiltInTokenizer.Qwen3Source + " (tokenizer.json)", builtIn.Tokenizer.Source);
    }

    [Fact]
    public void WrittenAsAFolderLoadsAsTheSameTokenizer()
    {
        var folder = Path.Combine(Path.GetTempPath(), "flux2-builtin-tokenizer-" + Guid.NewGuid().ToString("N"), "tokenizer");
        try
        {
            BuiltInTokenizer.WriteQwen3(folder);
            Assert.Equal(["tokenizer.json", "tokenizer_config.json"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
            var loaded = PromptTokenizer.Load(folder, PromptTemplate.Klein);
            var entry = QwenTokenizerGoldenTests.Entry(0);
            var encoded = loaded.Tokenize(entry.GetProperty("prompt").GetString()!);
            Assert.Equal(QwenTokenizerGoldenTests.Ints(entry, "input_ids"), encoded.InputIds);
            Assert.Equal((Klein.Value.PaddingSide, Klein.Value.PadTokenId), (loaded.PaddingSide, loaded.PadTokenId));
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(folder)!, recursive: true);
        }
    }
}
