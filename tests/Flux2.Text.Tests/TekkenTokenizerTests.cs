using System.Text;
using System.Text.Json;
using Flux2.Tests;

namespace Flux2.Text.Tests;

/// <summary>Mistral's tekken.json, on <see cref="SyntheticTekken"/> with Mistral's 1000 special tokens.</summary>
public sealed class TekkenTokenizerTests : IDisposable
{
    private const int Ca = 1258, Cat = 1259, SpaceCat = 1260, Zhong = 1257;

    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private static string TekkenJson(bool withSpecialTokens = true) => SyntheticTekken.Json(withSpecialTokens);

    private TextTokenizer Load() => Text.TekkenJson.Load(_folder.WriteText("tekken.json", TekkenJson()));

    private static int[] Bytes(string text) => Encoding.UTF8.GetBytes(text).Select(b => 1000 + b).ToArray();

    [Fact]
    public void IdsAreRankPlusTheSpecialTokenCount()
    {
        var tokenizer = Load();
        Assert.Equal([Cat], tokenizer.Encode("cat"));
        Assert.Equal([SpaceCat], tokenizer.Encode(" cat"));
        Assert.Equal([Zhong], tokenizer.Encode("中"));
        Assert.Equal([Cat, 1000 + 's'], tokenizer.Encode("cats")); // "cats" is past the vocabulary cut-off
        Assert.Equal(Bytes("dog!"), tokenizer.Encode("dog!"));
    }

    [Fact]
    public void BytesThatAreNotValidUtf8AloneStillMerge()
    {
        var tokenizer = Load();
        // 丸 is E4 B8 B8: it starts with the byte pair of rank 256.
        Assert.Equal([1256, 1000 + 0xB8], tokenizer.Encode("丸"));
        Assert.Equal([Zhong, Zhong], tokenizer.Encode("中中"));
    }

    [Fact]
    public void SpecialTokensAreMatchedAndUnlistedOnesArePlaceholders()
    {
        var tokenizer = Load();
        Assert.Equal([1, 3, Cat, 4], tokenizer.Encode("<s>[INST]cat[/INST]"));
        Assert.Equal(5, tokenizer.SpecialTokens["<SPECIAL_5>"]);
        Assert.Equal(999, tokenizer.SpecialTokens["<SPECIAL_999>"]);
        Assert.Equal(1000, tokenizer.SpecialTokens.Count);
        Assert.Equal([Cat, 5], tokenizer.Encode("cat<SPECIAL_5>"));
    }

    [Fact]
    public void DevTemplateHasTheSystemPromptWithItsLineFeedAndLeftPadding()
    {
        _folder.WriteText("tekken.json", TekkenJson());
        var dev = PromptTokenizer.Load(_folder.Path, PromptTemplate.Dev);
        Assert.Equal(PaddingSide.Left, dev.PaddingSide);
        Assert.Equal(11, dev.PadTokenId);

        var encoded = dev.Tokenize("a cat[IMG]");
        var system = dev.Tokenizer.Encode(ChatTemplates.DevSystemPrompt);
        Assert.Contains(1000 + '\n', system);
        int[] expected = [1, 17, .. system, 18, 3, 1000 + 'a', SpaceCat, 4];
        int pads = 512 - expected.Length;
        Assert.Equal(Enumerable.Repeat(11L, pads).Concat(expected.Select(i => (long)i)), encoded.InputIds);
        Assert.Equal(Enumerable.Repeat(0L, pads).Concat(Enumerable.Repeat(1L, expected.Length)), encoded.AttentionMask);
    }

    [Fact]
    public void LeftPaddingKeepsTheStartOfAnOverLongPrompt()
    {
        _folder.WriteText("tekken.json", TekkenJson());
        var dev = PromptTokenizer.Load(_folder.Path, PromptTemplate.Dev);
        var encoded = dev.Tokenize(string.Concat(Enumerable.Repeat(" cat", 600)));
        Assert.True(encoded.Truncated);
        Assert.Equal(1, encoded.InputIds[0]); // BOS kept, [/INST] cut, as the reference does
        Assert.Equal(SpaceCat, encoded.InputIds[511]);
        Assert.All(encoded.AttentionMask, m => Assert.Equal(1L, m));
    }

    [Fact]
    public void TokenizerConfigOverridesThePaddingDefaults()
    {
        _folder.WriteText("tokenizer/tekken.json", TekkenJson());
        _folder.WriteText("tokenizer/tokenizer_config.json", """{"padding_side": "right", "pad_token": {"content": "</s>"}}""");
        var dev = PromptTokenizer.Load(_folder.Path, PromptTemplate.Dev); // the model folder: tokenizer/ is found
        Assert.Equal(PaddingSide.Right, dev.PaddingSide);
        Assert.Equal(2, dev.PadTokenId);
    }

    [Fact]
    public void FilesWithoutSpecialTokensAreNotSupported()
    {
        var file = _folder.WriteText("tekken.json", TekkenJson(withSpecialTokens: false));
        var e = Assert.Throws<TokenizerFormatException>(() => Text.TekkenJson.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains("special_tokens", e.Message);
    }

    [Fact]
    public void BrokenVocabulariesAreReportedWithTheFileName()
    {
        var json = TekkenJson().Replace("\"rank\":5,", "\"rank\":6,");
        var file = _folder.WriteText("tekken.json", json);
        var e = Assert.Throws<TokenizerFormatException>(() => Text.TekkenJson.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains("rank", e.Message);
    }
}
