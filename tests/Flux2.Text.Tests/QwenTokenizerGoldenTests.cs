using System.Text.Json;
using Flux2.Tests;

namespace Flux2.Text.Tests;

/// <summary>The real Qwen3 tokenizer against tokenizer_qwen3.json (golden README §6): every id and mask exact.</summary>
public class QwenTokenizerGoldenTests
{
    internal static readonly Lazy<PromptTokenizer> Klein =
        new(() => PromptTokenizer.Load(Fixtures.File("tokenizers", "qwen3"), PromptTemplate.Klein));

    private static readonly Lazy<JsonDocument> Golden =
        new(() => JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden("tokenizer_qwen3.json"))));

    internal static JsonElement Entry(int index) => Golden.Value.RootElement.GetProperty("entries")[index];

    public static TheoryData<int> Entries()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Golden.Value.RootElement.GetProperty("entries").GetArrayLength(); i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(Entries))]
    public void MatchesTheReferenceIdsAndMasks(int index)
    {
        var entry = Entry(index);
        string prompt = entry.GetProperty("prompt").GetString()!;
        var tokenizer = Klein.Value;

        Assert.Equal(Ints(entry, "raw_ids"), tokenizer.Tokenizer.Encode(prompt).Select(i => (long)i));
        string templated = ChatTemplates.Render(PromptTemplate.Klein, prompt);
        Assert.Equal(entry.GetProperty("templated_text").GetString(), templated);
        Assert.Equal(Ints(entry, "templated_ids"), tokenizer.Tokenizer.Encode(templated).Select(i => (long)i));

        var encoded = tokenizer.Tokenize(prompt);
        Assert.Equal(Ints(entry, "input_ids"), encoded.InputIds);
        Assert.Equal(Ints(entry, "attention_mask"), encoded.AttentionMask);
        Assert.Equal(entry.GetProperty("num_templated_tokens").GetInt32(), encoded.TokenCount);
        Assert.Equal(entry.GetProperty("truncated").GetBoolean(), encoded.Truncated);
        Assert.Equal(entry.GetProperty("num_real_tokens").GetInt32(), encoded.RealTokenCount);
    }

    internal static long[] Ints(JsonElement entry, string name) =>
        entry.GetProperty(name).EnumerateArray().Select(e => e.GetInt64()).ToArray();

    [Fact]
    public void SpecialTokensAndPaddingComeFromTheFiles()
    {
        var tokenizer = Klein.Value;
        Assert.Equal(PaddingSide.Right, tokenizer.PaddingSide);
        Assert.Equal(151643, tokenizer.PadTokenId);
        var specials = tokenizer.Tokenizer.SpecialTokens;
        Assert.Equal(151644, specials["<|im_start|>"]);
        Assert.Equal(151645, specials["<|im_end|>"]);
        Assert.Equal(151667, specials["<think>"]);
        Assert.Equal(151668, specials["</think>"]);
    }

    [Fact]
    public void TruncationWarnsByDefaultAndStrictModeRejects()
    {
        var tokenizer = Klein.Value;
        string exact = Entry(30).GetProperty("prompt").GetString()!;
        string overLong = Entry(31).GetProperty("prompt").GetString()!;

        var fits = tokenizer.Tokenize(exact, strict: true);
        Assert.Equal(512, fits.TokenCount);
        Assert.Null(fits.Warning);

        var cut = tokenizer.Tokenize(overLong);
        Assert.True(cut.Truncated);
        Assert.Contains("513", cut.Warning);
        var e = Assert.Throws<PromptTooLongException>(() => tokenizer.Tokenize(overLong, strict: true));
        Assert.Equal(513, e.TokenCount);
        Assert.Equal(512, e.MaxLength);
        Assert.Contains("513", e.Message);
        Assert.Contains("512", e.Message);
    }

    [Fact]
    public void ShorterMaxLengthPadsAndCutsToThatLength()
    {
        var encoded = Klein.Value.Tokenize("a cat", maxLength: 16);
        Assert.Equal(Ints(Entry(1), "input_ids").Take(16), encoded.InputIds);
        Assert.Equal(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }, encoded.AttentionMask);
        Assert.Equal(14, Klein.Value.Tokenize("a cat", maxLength: 14, strict: true).RealTokenCount);
        Assert.Throws<PromptTooLongException>(() => Klein.Value.Tokenize("a cat", maxLength: 13, strict: true));
    }

    [Fact]
    public void LoneSurrogatesBecomeReplacementCharacters()
    {
        var text = Klein.Value.Tokenizer;
        Assert.Equal(text.Encode("a\uFFFDb"), text.Encode("a\uD800b"));
        Assert.Equal(text.Encode("\uFFFD x \uFFFD"), text.Encode("\uDC00 x \uD83D"));
        Assert.Equal(512, Klein.Value.Tokenize("\uDFFF").InputIds.Length);
    }

    [Fact]
    public void PiecesFollowCodePointsNotSurrogateHalves()
    {
        // The same prompt written with a BMP letter in place of each supplementary one must split the same way:
        // 𠀀 (U+20000) is a letter, 𝟏 a digit, and "😀jkl" is one piece (the reference's split of this text).
        var text = Klein.Value.Tokenizer;
        var ids = text.Encode("a𠀀b 𝟏𝟐 ghi😀jkl");
        var pieces = new[] { "a𠀀b", " ", "𝟏", "𝟐", " ghi", "😀jkl" }.SelectMany(p => text.Encode(p));
        Assert.Equal(pieces, ids);
    }
}
