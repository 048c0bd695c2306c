using System.Text.Json;

namespace Flux2.Text;

/// <summary>
/// Loads a Hugging Face <c>tokenizer.json</c> holding a byte-level BPE (Qwen2/3, and the HF form of the Mistral
/// tokenizer; spec §8.1). Accepted components: normalizer null or NFC; pre_tokenizer Sequence[Split(Regex,
/// Isolated), ByteLevel(add_prefix_space=false, use_regex=false)]; model BPE without dropout, byte fallback or
/// subword affixes; merges as "a b" strings or ["a", "b"] pairs; added tokens without strip/single-word options.
/// Anything else is rejected with <see cref="TokenizerFormatException"/> rather than tokenised wrongly.
/// post_processor and decoder are not used: prompts are encoded without added BOS/EOS and never decoded.
/// </summary>
public static class HuggingFaceTokenizerJson
{
    public static TextTokenizer Load(string path) => TokenizerJsonFile.Parse(path, root => Parse(path, root));

    /// <summary>The tokenizer.json in <paramref name="json"/>; <paramref name="source"/> names it in messages.</summary>
    public static TextTokenizer Load(string source, byte[] json) => TokenizerJsonFile.Parse(source, json, root => Parse(source, root));

    private static TextTokenizer Parse(string path, JsonElement root)
    {
        var model = Required(path, root, "model");
        string type = model.TryGetProperty("type", out var t) ? t.GetString() ?? "" : "";
        if (type != "BPE") Unsupported(path, "model.type", type);
        if (IsSet(model, "dropout")) Unsupported(path, "model.dropout", model.GetProperty("dropout").ToString());
        if (IsTrue(model, "byte_fallback")) Unsupported(path, "model.byte_fallback", "true");
        foreach (var affix in new[] { "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(affix, out var a) && a.ValueKind == JsonValueKind.String && a.GetString() != "")
                Unsupported(path, "model." + affix, a.GetString()!);

        bool nfc = ReadNormalizer(path, root);
        var splitter = TokenizerJsonFile.Splitter(path, "the pre_tokenizer Split pattern", ReadSplitPattern(path, root));

        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in Required(path, model, "vocab").EnumerateObject()) vocabulary[entry.Name] = entry.Value.GetInt32();
        var merges = ReadMerges(path, Required(path, model, "merges"));
        var specials = ReadAddedTokens(path, root);
        var bpe = ByteLevelBpeModel.Create(path, "model.vocab", vocabulary, merges);
        bool ignoreMerges = IsTrue(model, "ignore_merges");
        return new TextTokenizer(path, new SpecialTokenMatcher(specials), nfc, splitter, bpe, ignoreMerges ? vocabulary : null);
    }

    private static bool ReadNormalizer(string path, JsonElement root)
    {
        if (!IsSet(root, "normalizer")) return false;
        string type = root.GetProperty("normalizer").GetProperty("type").GetString() ?? "";
        if (type != "NFC") Unsupported(path, "normalizer", type);
        return true;
    }

    /// <summary>The Split regex of a Sequence[Split(Regex, Isolated), ByteLevel(use_regex=false)] pre-tokenizer.</summary>
    private static string ReadSplitPattern(string path, JsonElement root)
    {
        if (!IsSet(root, "pre_tokenizer")) Unsupported(path, "pre_tokenizer", "null");
        var pre = root.GetProperty("pre_tokenizer");
        string type = pre.GetProperty("type").GetString() ?? "";
        if (type != "Sequence") Unsupported(path, "pre_tokenizer", type);
        var steps = pre.GetProperty("pretokenizers").EnumerateArray().ToList();
        string Describe() => string.Join(", ", steps.Select(s => s.GetProperty("type").GetString()));
        if (steps.Count != 2 || steps[0].GetProperty("type").GetString() != "Split" || steps[1].GetProperty("type").GetString() != "ByteLevel")
            Unsupported(path, "pre_tokenizer", $"Sequence[{Describe()}] (expected Sequence[Split, ByteLevel])");

        var split = steps[0];
        if (!split.GetProperty("pattern").TryGetProperty("Regex", out var regex))
            Unsupported(path, "pre_tokenizer Split pattern", split.GetProperty("pattern").ToString());
        string behavior = split.GetProperty("behavior").GetString() ?? "";
        if (behavior != "Isolated") Unsupported(path, "pre_tokenizer Split behavior", behavior);
        if (IsTrue(split, "invert")) Unsupported(path, "pre_tokenizer Split invert", "true");

        var byteLevel = steps[1];
        if (IsTrue(byteLevel, "add_prefix_space")) Unsupported(path, "pre_tokenizer ByteLevel add_prefix_space", "true");
        if (!byteLevel.TryGetProperty("use_regex", out var useRegex) || useRegex.ValueKind != JsonValueKind.False)
            Unsupported(path, "pre_tokenizer ByteLevel use_regex", "true (only use_regex=false is supported)");
        return regex.GetString()!;
    }

    /// <summary>Merges in either encoding, in the file's order.</summary>
    private static List<(string Left, string Right)> ReadMerges(string path, JsonElement merges)
    {
        var pairs = new List<(string Left, string Right)>();
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                var parts = merge.GetString()!.Split(' ');
                if (parts.Length != 2) throw new TokenizerFormatException(path, $"merge \"{merge.GetString()}\" is not two tokens separated by one space");
                pairs.Add((parts[0], parts[1]));
            }
            else
            {
                if (merge.GetArrayLength() != 2) throw new TokenizerFormatException(path, $"merge {merge} is not a pair");
                pairs.Add((merge[0].GetString()!, merge[1].GetString()!));
            }
        }
        return pairs;
    }

    private static Dictionary<string, int> ReadAddedTokens(string path, JsonElement root)
    {
        var tokens = new Dictionary<string, int>(StringComparer.Ordinal);
        if (!root.TryGetProperty("added_tokens", out var added) || added.ValueKind == JsonValueKind.Null) return tokens;
        foreach (var token in added.EnumerateArray())
        {
            string content = token.GetProperty("content").GetString()!;
            foreach (var option in new[] { "lstrip", "rstrip", "single_word" })
                if (IsTrue(token, option)) Unsupported(path, $"added token \"{content}\" {option}", "true");
            if (content.Length == 0) throw new TokenizerFormatException(path, "an added token has empty content");
            tokens[content] = token.GetProperty("id").GetInt32();
        }
        return tokens;
    }

    private static JsonElement Required(string path, JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null
            ? value
            : throw new TokenizerFormatException(path, $"missing \"{name}\"");

    private static bool IsSet(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null;

    private static bool IsTrue(JsonElement parent, string name) =>
        parent.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    private static void Unsupported(string path, string component, string value) =>
        throw new TokenizerFormatException(path, $"unsupported tokenizer component {component} = {value}");
}
