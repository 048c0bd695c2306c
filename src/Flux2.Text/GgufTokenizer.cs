using Flux2.Core.Gguf;

namespace Flux2.Text;

/// <summary>
/// The tokenizer a GGUF language model carries in its <c>tokenizer.ggml.*</c> metadata (llama.cpp's converter writes it from
/// the model's tokenizer.json or tekken.json): model "gpt2", a byte-level BPE whose tokens are listed by id in their
/// byte-level spelling, with its merges ("a b") in priority order; tokens of type control (3) and user-defined (4) are
/// matched in the raw text first, as a tokenizer.json's added tokens are; unused placeholders (5) are left out. The split
/// pattern, normaliser and whole-piece lookup are not in the file: <c>tokenizer.ggml.pre</c> names them, and the two of
/// FLUX.2's encoders are known, each as its tokenizer.json has them: tekken (Mistral-Small-3.x: no normaliser; a piece that
/// is a token is that token, as tiktoken and the tokenizer.json's ignore_merges have it, where llama.cpp runs the merges)
/// and qwen2 (Qwen3: NFC, merges only).
/// </summary>
public static class GgufTokenizer
{
    private const string TokensKey = "tokenizer.ggml.tokens";

    private static readonly Dictionary<string, (string Pattern, bool Nfc, bool WholePieces)> PreTokenizers = new(StringComparer.Ordinal)
    {
        ["tekken"] = (@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+", false, true),
        ["qwen2"] = (@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", true, false),
    };

    private const int Control = 3, UserDefined = 4, Unused = 5;

    public static TextTokenizer Load(GgufFile file)
    {
        string source = file.FilePath;
        string model = Get<string>(file, "tokenizer.ggml.model");
        if (model != "gpt2")
            throw new TokenizerFormatException(source, $"tokenizer.ggml.model is '{model}'; only byte-level BPE ('gpt2') is read");
        string pre = file.Values.TryGetValue("tokenizer.ggml.pre", out var p) && p is string name ? name : "(none)";
        if (!PreTokenizers.TryGetValue(pre, out var preTokenizer))
            throw new TokenizerFormatException(source,
                $"tokenizer.ggml.pre is '{pre}', whose split pattern is not known here ({string.Join(" and ", PreTokenizers.Keys)} are); give the tokenizer folder");

        var tokens = Get<string[]>(file, TokensKey);
        var types = Get<int[]>(file, "tokenizer.ggml.token_type");
        if (types.Length != tokens.Length)
            throw new TokenizerFormatException(source, $"tokenizer.ggml.token_type has {types.Length} entries for {tokens.Length} tokens");
        var vocabulary = new Dictionary<string, int>(StringComparer.Ordinal);
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < tokens.Length; id++)
        {
            if (types[id] == Unused) continue;
            if (tokens[id].Length == 0) throw new TokenizerFormatException(source, $"token {id} is empty");
            if (!vocabulary.TryAdd(tokens[id], id)) throw new TokenizerFormatException(source, $"token {id} \"{tokens[id]}\" repeats token {vocabulary[tokens[id]]}");
            if (types[id] is Control or UserDefined) specials.Add(tokens[id], id);
        }

        var merges = new List<(string, string)>();
        foreach (var merge in Get<string[]>(file, "tokenizer.ggml.merges"))
        {
            var parts = merge.Split(' ');
            if (parts.Length != 2) throw new TokenizerFormatException(source, $"merge \"{merge}\" is not two tokens separated by one space");
            merges.Add((parts[0], parts[1]));
        }
        var bpe = ByteLevelBpeModel.Create(source, "tokenizer.ggml.tokens", vocabulary, merges);
        var splitter = TokenizerJsonFile.Splitter(source, "the split pattern", preTokenizer.Pattern);
        return new TextTokenizer(source, new SpecialTokenMatcher(specials), preTokenizer.Nfc, splitter, bpe,
            preTokenizer.WholePieces ? vocabulary : null);
    }

    private static T Get<T>(GgufFile file, string key) =>
        !file.Values.TryGetValue(key, out var value) ? throw new TokenizerFormatException(file.FilePath, $"no metadata '{key}'")
        : value is T typed ? typed
        : throw new TokenizerFormatException(file.FilePath, $"metadata '{key}' is a {value.GetType().Name}, expected {typeof(T).Name}");
}
