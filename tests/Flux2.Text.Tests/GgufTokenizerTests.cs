using Flux2.Core.Gguf;
using Flux2.Tests;

namespace Flux2.Text.Tests;

/// <summary>
/// A tokenizer rebuilt from GGUF metadata written as llama.cpp's converter writes it (<see cref="LlamaCppTokenizerMetadata"/>):
/// from the real Qwen3 tokenizer.json it gives the ids that file gives, and from a tekken.json the ids tekken gives.
/// </summary>
public sealed class GgufTokenizerTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Prompts in many scripts, contractions in both cases, digits, runs of spaces and line breaks, the chat
    /// template's special tokens, a lone surrogate and text that NFC composes.</summary>
    private static readonly string[] Texts =
    [
        "a red fox", "A photo of a cat sitting on a WINDOWSILL, golden hour, 35mm", "I'm sure they'll say WE'RE done; it's I'D've",
        "1234567 + 89 = 1234656", "  leading and   inner   spaces  ", "lines\n\nand\r\ncarriage\n  returns\t\ttabs",
        "中文提示：一只在雪地里的狐狸", "日本語のプロンプト、カタカナ", "Ελληνικά και русский текст", "emoji 🦊🔥👍🏽 and ✨",
        "e\u0301 composed by NFC: é", "lone \uD800 surrogate", "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
        "[INST]cat[/INST]<s></s>[SYSTEM_PROMPT]x[/SYSTEM_PROMPT]", "path/to/file.png // comment", "ÀÉÎÕÜ àéîõü ßẞ ĳ",
    ];

    private GgufFile Write(GgufBuilder builder)
    {
        string path = _dir.File($"{Guid.NewGuid():N}.gguf");
        builder.Value("general.architecture", "qwen3").Write(path);
        return GgufFile.Open(path);
    }

    [Fact]
    public void TheRealQwen3VocabularyGivesTheTokenizerJsonsIds()
    {
        string folder = _dir.File("qwen3");
        BuiltInTokenizer.WriteQwen3(folder);
        string json = Path.Combine(folder, "tokenizer.json");
        var expected = HuggingFaceTokenizerJson.Load(json);
        using var file = Write(LlamaCppTokenizerMetadata.FromTokenizerJson(new GgufBuilder(), json, vocabSize: 151936, pre: "qwen2"));
        var tokenizer = GgufTokenizer.Load(file);
        foreach (var text in Texts.Concat(QwenGoldenPrompts())) Assert.Equal(expected.Encode(text), tokenizer.Encode(text));
        Assert.Equal(expected.SpecialTokens.OrderBy(t => t.Key, StringComparer.Ordinal), tokenizer.SpecialTokens.OrderBy(t => t.Key, StringComparer.Ordinal));
        Assert.DoesNotContain("[PAD151700]", tokenizer.SpecialTokens.Keys);
        Assert.Equal(151643, PromptTokenizer.Create(tokenizer, PromptTemplate.Klein, file.FilePath, null).PadTokenId);
    }

    private static IEnumerable<string> QwenGoldenPrompts() =>
        Enumerable.Range(0, QwenTokenizerGoldenTests.Entries().Count)
            .Select(i => QwenTokenizerGoldenTests.Entry(i).GetProperty("prompt").GetString()!);

    [Fact]
    public void ATekkenVocabularyGivesTekkensIds()
    {
        string tekken = SyntheticTekken.Json();
        var expected = TekkenJson.Load(_dir.WriteText("tekken.json", tekken));
        using var file = Write(LlamaCppTokenizerMetadata.FromTekken(new GgufBuilder(), tekken));
        var tokenizer = GgufTokenizer.Load(file);
        foreach (var text in Texts.Concat(["cat cats ca c at", " cat cat", "中中丸", "You you YOU"]))
            Assert.Equal(expected.Encode(text), tokenizer.Encode(text));
        Assert.Equal(expected.SpecialTokens.OrderBy(t => t.Key, StringComparer.Ordinal), tokenizer.SpecialTokens.OrderBy(t => t.Key, StringComparer.Ordinal));
        var dev = PromptTokenizer.Create(tokenizer, PromptTemplate.Dev, file.FilePath, null);
        Assert.Equal((PaddingSide.Left, 11), (dev.PaddingSide, dev.PadTokenId));
    }

    public static TheoryData<string, string> Faults => new()
    {
        { "model llama", "tokenizer.ggml.model is 'llama'; only byte-level BPE ('gpt2') is read" },
        { "pre llama-bpe", "tokenizer.ggml.pre is 'llama-bpe', whose split pattern is not known here (tekken and qwen2 are)" },
        { "no merges", "no metadata 'tokenizer.ggml.merges'" },
        { "types", "tokenizer.ggml.token_type has 3 entries for 1262 tokens" },
        { "tokens as ints", "metadata 'tokenizer.ggml.tokens' is a Int32[], expected String[]" },
        { "merge of unknown", "merge \"Ġ zz\" uses \"zz\", which is not in tokenizer.ggml.tokens" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void WhatIsNotReadIsRefusedNamingTheFileAndKey(string fault, string message)
    {
        var builder = LlamaCppTokenizerMetadata.FromTekken(new GgufBuilder(), SyntheticTekken.Json());
        _ = fault switch
        {
            "model llama" => builder.Without("tokenizer.ggml.model").Value("tokenizer.ggml.model", "llama"),
            "pre llama-bpe" => builder.Without("tokenizer.ggml.pre").Value("tokenizer.ggml.pre", "llama-bpe"),
            "no merges" => builder.Without("tokenizer.ggml.merges"),
            "types" => builder.Without("tokenizer.ggml.token_type").Value("tokenizer.ggml.token_type", new[] { 1, 1, 1 }),
            "tokens as ints" => builder.Without("tokenizer.ggml.tokens").Value("tokenizer.ggml.tokens", new[] { 1, 2 }),
            _ => builder.Without("tokenizer.ggml.merges").Value("tokenizer.ggml.merges", new[] { "Ġ zz" }),
        };
        using var file = Write(builder);
        var e = Assert.Throws<TokenizerFormatException>(() => GgufTokenizer.Load(file));
        Assert.Contains(file.FilePath, e.Message);
        Assert.Contains(message, e.Message);
    }
}
