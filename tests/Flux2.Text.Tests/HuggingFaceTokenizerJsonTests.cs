using System.Text.Json.Nodes;
using Flux2.Tests;

namespace Flux2.Text.Tests;

/// <summary>Loader behaviour on small synthetic tokenizer.json files (the real Qwen3 file is covered by the goldens).</summary>
public sealed class HuggingFaceTokenizerJsonTests : IDisposable
{
    private readonly TempDirectory _folder = new();

    public void Dispose() => _folder.Dispose();

    private const int A = 'a', B = 'b', C = 'c', Ab = 256, Bc = 257, Abc = 258, X = 300;

    /// <summary>Vocabulary: the 256 byte characters with id = byte value, then ab, bc, abc (256..258); the added
    /// token &lt;x&gt; is 300.</summary>
    private static JsonObject Tokenizer(JsonArray merges)
    {
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevelAlphabet.ForByte((byte)b).ToString()] = b;
        vocab["ab"] = Ab;
        vocab["bc"] = Bc;
        vocab["abc"] = Abc;
        return new JsonObject
        {
            ["version"] = "1.0",
            ["added_tokens"] = new JsonArray(new JsonObject
            {
                ["id"] = X, ["content"] = "<x>", ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = false, ["special"] = true,
            }),
            ["normalizer"] = new JsonObject { ["type"] = "NFC" },
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject { ["type"] = "Split", ["pattern"] = new JsonObject { ["Regex"] = @"\p{L}+|\s+" }, ["behavior"] = "Isolated", ["invert"] = false },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = false, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = null,
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "", ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
    }

    private TextTokenizer Load(JsonObject json) => HuggingFaceTokenizerJson.Load(_folder.WriteText("tokenizer.json", json.ToJsonString()));

    [Fact]
    public void BothMergeEncodingsGiveTheSameTokens()
    {
        var strings = Load(Tokenizer(new JsonArray("a b", "ab c")));
        var pairs = Load(Tokenizer(new JsonArray(new JsonArray("a", "b"), new JsonArray("ab", "c"))));
        Assert.Equal([Abc], strings.Encode("abc"));
        Assert.Equal([Abc], pairs.Encode("abc"));
        Assert.Equal([Ab, X, A, 0x20, 0x20, C], pairs.Encode("ab<x>a  c"));
    }

    [Fact]
    public void DuplicateMergesKeepTheLastRankLikeHuggingFace()
    {
        // Ranks (a,b)=2, (b,c)=1: "bc" merges first, so "abc" ends as a + bc.
        var tokenizer = Load(Tokenizer(new JsonArray("a b", "b c", "a b")));
        Assert.Equal([A, Bc], tokenizer.Encode("abc"));
    }

    [Fact]
    public void IgnoreMergesTakesAWholeVocabularyPieceFirst()
    {
        var json = Tokenizer(new JsonArray("a b"));
        Assert.Equal([Ab, C], Load(json).Encode("abc"));
        json["model"]!["ignore_merges"] = true;
        Assert.Equal([Abc], Load(json).Encode("abc"));
    }

    [Theory]
    [InlineData("normalizer", """{"type": "NFKC"}""", "normalizer")]
    [InlineData("pre_tokenizer", """{"type": "ByteLevel", "add_prefix_space": false, "use_regex": true}""", "pre_tokenizer")]
    [InlineData("model.type", "\"WordPiece\"", "model.type")]
    [InlineData("model.byte_fallback", "true", "byte_fallback")]
    [InlineData("model.dropout", "0.1", "dropout")]
    public void ComponentsOutsideTheSpecAreRejected(string where, string json, string expectedInMessage)
    {
        var root = Tokenizer(new JsonArray("a b"));
        var node = JsonNode.Parse(json);
        if (where.StartsWith("model.")) root["model"]![where["model.".Length..]] = node;
        else root[where] = node;
        var file = _folder.WriteText("tokenizer.json", root.ToJsonString());
        var e = Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizerJson.Load(file));
        Assert.Contains(file, e.Message);
        Assert.Contains(expectedInMessage, e.Message);
    }

    [Fact]
    public void StrippingAddedTokensAreRejected()
    {
        var root = Tokenizer(new JsonArray("a b"));
        root["added_tokens"]![0]!["lstrip"] = true;
        var e = Assert.Throws<TokenizerFormatException>(() => Load(root));
        Assert.Contains("lstrip", e.Message);
    }

    [Fact]
    public void MergesOutsideTheVocabularyAreFormatErrors()
    {
        var e = Assert.Throws<TokenizerFormatException>(() => Load(Tokenizer(new JsonArray("c a"))));
        Assert.Contains("\"ca\"", e.Message);
        Assert.Throws<TokenizerFormatException>(() => Load(Tokenizer(new JsonArray("a b c"))));
    }

    [Fact]
    public void AVocabularyMissingAByteIsAFormatError()
    {
        var root = Tokenizer(new JsonArray("a b"));
        root["model"]!["vocab"]!.AsObject().Remove("z");
        var e = Assert.Throws<TokenizerFormatException>(() => Load(root));
        Assert.Contains("0x7A", e.Message);
    }

    [Fact]
    public void UnreadableFilesAreFormatErrorsNamingTheFile()
    {
        var file = _folder.WriteText("tokenizer.json", "{ not json");
        var e = Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizerJson.Load(file));
        Assert.Contains(file, e.Message);
        var missing = _folder.WriteText("tokenizer.json", """{"model": {"type": "BPE", "vocab": {}}}""");
        Assert.Throws<TokenizerFormatException>(() => HuggingFaceTokenizerJson.Load(missing)); // no pre_tokenizer
    }

    [Fact]
    public void FoldersWithoutATokenizerAreFormatErrors()
    {
        var e = Assert.Throws<TokenizerFormatException>(() => PromptTokenizer.Load(_folder.Path, PromptTemplate.Klein));
        Assert.Contains("tokenizer.json", e.Message);
        Assert.Throws<TokenizerFormatException>(() => PromptTokenizer.Load(Path.Combine(_folder.Path, "missing"), PromptTemplate.Klein));
    }

    [Fact]
    public void APadTokenThatIsNotSpecialIsAFormatError()
    {
        _folder.WriteText("tokenizer.json", Tokenizer(new JsonArray("a b")).ToJsonString());
        var e = Assert.Throws<TokenizerFormatException>(() => PromptTokenizer.Load(_folder.Path, PromptTemplate.Klein));
        Assert.Contains("<|endoftext|>", e.Message);
        _folder.WriteText("tokenizer_config.json", """{"pad_token": "<x>"}""");
        Assert.Equal(X, PromptTokenizer.Load(_folder.Path, PromptTemplate.Klein).PadTokenId);
    }

    [Fact]
    public void TemplateNoneGivesTheRawIdsUnpadded()
    {
        _folder.WriteText("tokenizer.json", Tokenizer(new JsonArray("a b", "ab c")).ToJsonString());
        var raw = PromptTokenizer.Load(_folder.Path, PromptTemplate.None).Tokenize("abc<x>a");
        Assert.Equal(new long[] { Abc, X, A }, raw.InputIds);
        Assert.Equal(new long[] { 1, 1, 1 }, raw.AttentionMask);
        Assert.False(raw.Truncated);
    }
}
