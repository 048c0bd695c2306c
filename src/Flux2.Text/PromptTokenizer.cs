using System.Text.Json;
using Flux2.Core.Checkpoints;
using Flux2.Core.Files;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;

namespace Flux2.Text;

/// <summary>
/// Turns a user prompt into the text encoder's input (spec §7.1–7.2): render the chat template, tokenize, cut at
/// the fixed length from the right (or reject in strict mode), pad to that length on the tokenizer's side.
/// </summary>
public sealed class PromptTokenizer
{
    /// <summary>The FLUX.2 text sequence length.</summary>
    public const int DefaultMaxLength = 512;

    public PromptTokenizer(TextTokenizer tokenizer, PromptTemplate template, PaddingSide paddingSide, int padTokenId)
    {
        Tokenizer = tokenizer;
        Template = template;
        PaddingSide = paddingSide;
        PadTokenId = padTokenId;
    }

    public TextTokenizer Tokenizer { get; }
    public PromptTemplate Template { get; }
    public PaddingSide PaddingSide { get; }
    public int PadTokenId { get; }

    /// <summary>
    /// Loads the tokenizer in <paramref name="directory"/> (a model's <c>tokenizer/</c> folder, or the model folder
    /// itself when it has one): <c>tokenizer.json</c> if present, else Mistral's <c>tekken.json</c>. Padding side and
    /// pad token come from <c>tokenizer_config.json</c> when it names them, else from the template's reference
    /// pipeline (klein: right with &lt;|endoftext|&gt;, dev: left with &lt;pad&gt;). A GGUF file instead of a folder gives the
    /// tokenizer it carries (<see cref="GgufTokenizer"/>).
    /// </summary>
    public static PromptTokenizer Load(string directory, PromptTemplate template)
    {
        if (File.Exists(directory) && SafeTensorsCheckpoint.IsGguf(directory))
        {
            using var gguf = GgufFile.Open(directory);
            return Create(GgufTokenizer.Load(gguf), template, gguf.FilePath, config: null);
        }
        if (!Directory.Exists(directory)) throw new TokenizerFormatException(directory, "tokenizer folder not found");
        string hfFile = Path.Combine(directory, "tokenizer.json"), tekkenFile = Path.Combine(directory, "tekken.json");
        if (!File.Exists(hfFile) && !File.Exists(tekkenFile) && Directory.Exists(Path.Combine(directory, "tokenizer")))
            return Load(Path.Combine(directory, "tokenizer"), template);

        TextTokenizer tokenizer = File.Exists(hfFile) ? HuggingFaceTokenizerJson.Load(hfFile)
            : File.Exists(tekkenFile) ? TekkenJson.Load(tekkenFile)
            : throw new TokenizerFormatException(directory, "no tokenizer.json or tekken.json in this folder");
        string configFile = Path.Combine(directory, "tokenizer_config.json");
        byte[]? config = template != PromptTemplate.None && File.Exists(configFile)
            ? RegularFile.ReadAllBytes(configFile, JsonText.MaxFileBytes, problem => new TokenizerFormatException(configFile, problem))
            : null;
        return Create(tokenizer, template, configFile, config);
    }

    /// <summary>The prompt tokenizer of <paramref name="tokenizer"/>, padded as <paramref name="config"/> (the contents of a
    /// tokenizer_config.json, named <paramref name="configSource"/> in messages; null: none) says, else as the template's
    /// reference pipeline pads.</summary>
    public static PromptTokenizer Create(TextTokenizer tokenizer, PromptTemplate template, string configSource, byte[]? config)
    {
        if (template == PromptTemplate.None) return new PromptTokenizer(tokenizer, template, PaddingSide.Right, padTokenId: -1);
        var (side, padToken) = template == PromptTemplate.Klein ? (PaddingSide.Right, "<|endoftext|>") : (PaddingSide.Left, "<pad>");
        if (config != null) (side, padToken) = ReadPadding(configSource, config, side, padToken);
        if (!tokenizer.SpecialTokens.TryGetValue(padToken, out int padId))
            throw new TokenizerFormatException(tokenizer.Source, $"the pad token \"{padToken}\" is not one of its special tokens");
        return new PromptTokenizer(tokenizer, template, side, padId);
    }

    /// <summary>
    /// The encoder input for <paramref name="prompt"/>. With a template: exactly <paramref name="maxLength"/> ids,
    /// longer prompts cut from the right (see <see cref="TokenizedPrompt.Warning"/>) or, when
    /// <paramref name="strict"/>, rejected with <see cref="PromptTooLongException"/>. Without one: the raw ids, unpadded.
    /// </summary>
    public TokenizedPrompt Tokenize(string prompt, int maxLength = DefaultMaxLength, bool strict = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 1);
        var ids = Tokenizer.Encode(ChatTemplates.Render(Template, prompt));
        if (Template == PromptTemplate.None)
            return new TokenizedPrompt(ids.Select(id => (long)id).ToArray(), Enumerable.Repeat(1L, ids.Count).ToArray(), ids.Count);
        if (strict && ids.Count > maxLength) throw new PromptTooLongException(ids.Count, maxLength);

        int real = Math.Min(ids.Count, maxLength);
        int start = PaddingSide == PaddingSide.Left ? maxLength - real : 0;
        var inputIds = new long[maxLength];
        var mask = new long[maxLength];
        Array.Fill(inputIds, PadTokenId);
        for (int i = 0; i < real; i++)
        {
            inputIds[start + i] = ids[i];
            mask[start + i] = 1;
        }
        return new TokenizedPrompt(inputIds, mask, ids.Count);
    }

    private static (PaddingSide, string) ReadPadding(string file, byte[] json, PaddingSide side, string padToken) =>
        TokenizerJsonFile.Parse(file, json, root =>
        {
            if (root.TryGetProperty("padding_side", out var s) && s.ValueKind == JsonValueKind.String)
            {
                side = s.GetString() switch
                {
                    "left" => PaddingSide.Left,
                    "right" => PaddingSide.Right,
                    var other => throw new TokenizerFormatException(file, $"padding_side is \"{other}\"; expected \"left\" or \"right\""),
                };
            }
            if (root.TryGetProperty("pad_token", out var p))
            {
                // Either a plain string or an AddedToken object {"content": ...}.
                if (p.ValueKind == JsonValueKind.String) padToken = p.GetString()!;
                else if (p.ValueKind == JsonValueKind.Object) padToken = p.GetProperty("content").GetString()!;
            }
            return (side, padToken);
        });
}
