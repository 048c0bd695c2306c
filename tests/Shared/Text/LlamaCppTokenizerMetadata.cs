using System.Text;
using System.Text.Json;

namespace Flux2.Tests;

/// <summary>
/// Writes a tokenizer into GGUF metadata as llama.cpp's convert_hf_to_gguf.py does for a byte-level BPE (tokenizer.ggml.*):
/// tokens by id up to the model's vocabulary size, ids without a token as "[PAD{id}]" of type unused (5), added tokens
/// control (3) when special and user-defined (4) otherwise, every other token normal (1), and the merges as "a b".
/// </summary>
public static class LlamaCppTokenizerMetadata
{
    /// <summary>From a Hugging Face tokenizer.json.</summary>
    public static GgufBuilder FromTokenizerJson(GgufBuilder builder, string tokenizerJson, int vocabSize, string pre)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(tokenizerJson));
        var model = doc.RootElement.GetProperty("model");
        var byId = new Dictionary<int, (string Token, int Type)>();
        foreach (var entry in model.GetProperty("vocab").EnumerateObject()) byId[entry.Value.GetInt32()] = (entry.Name, 1);
        foreach (var added in doc.RootElement.GetProperty("added_tokens").EnumerateArray())
            byId[added.GetProperty("id").GetInt32()] = (added.GetProperty("content").GetString()!, added.GetProperty("special").GetBoolean() ? 3 : 4);
        var merges = model.GetProperty("merges").EnumerateArray()
            .Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : m[0].GetString() + " " + m[1].GetString()).ToArray();
        return Write(builder, byId, vocabSize, merges, pre);
    }

    /// <summary>From a tekken.json, through the vocabulary and merges transformers derives from tiktoken ranks (the
    /// tokenizer.json published beside it): a token's merges are its splits into two tokens, ordered by the token's rank,
    /// then the left part's, then the right part's.</summary>
    public static GgufBuilder FromTekken(GgufBuilder builder, string tekkenJson)
    {
        using var doc = JsonDocument.Parse(tekkenJson);
        var config = doc.RootElement.GetProperty("config");
        int specials = config.GetProperty("default_num_special_tokens").GetInt32();
        int ranks = config.GetProperty("default_vocab_size").GetInt32() - specials;
        var byId = new Dictionary<int, (string Token, int Type)>();
        for (int id = 0; id < specials; id++) byId[id] = ($"<SPECIAL_{id}>", 3);
        foreach (var s in doc.RootElement.GetProperty("special_tokens").EnumerateArray())
            byId[s.GetProperty("rank").GetInt32()] = (s.GetProperty("token_str").GetString()!, 3);
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var tokens = doc.RootElement.GetProperty("vocab").EnumerateArray().Take(ranks)
            .Select(v => Convert.FromBase64String(v.GetProperty("token_bytes").GetString()!)).ToList();
        for (int rank = 0; rank < tokens.Count; rank++)
        {
            rankOf[Latin1(tokens[rank])] = rank;
            byId[specials + rank] = (ByteLevel(tokens[rank]), 1);
        }
        var merges = new List<(int Rank, int Left, int Right, string Merge)>();
        for (int rank = 0; rank < tokens.Count; rank++)
        {
            var token = tokens[rank];
            for (int split = 1; split < token.Length; split++)
                if (rankOf.TryGetValue(Latin1(token[..split]), out int left) && rankOf.TryGetValue(Latin1(token[split..]), out int right))
                    merges.Add((rank, left, right, ByteLevel(token[..split]) + " " + ByteLevel(token[split..])));
        }
        return Write(builder, byId, specials + tokens.Count,
            merges.OrderBy(m => m.Rank).ThenBy(m => m.Left).ThenBy(m => m.Right).Select(m => m.Merge).ToArray(), "tekken");
    }

    private static GgufBuilder Write(GgufBuilder builder, Dictionary<int, (string Token, int Type)> byId, int vocabSize, string[] merges, string pre)
    {
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        for (int id = 0; id < vocabSize; id++)
            (tokens[id], types[id]) = byId.TryGetValue(id, out var t) ? t : ($"[PAD{id}]", 5);
        return builder
            .Value("tokenizer.ggml.model", "gpt2")
            .Value("tokenizer.ggml.pre", pre)
            .Value("tokenizer.ggml.tokens", tokens)
            .Value("tokenizer.ggml.token_type", types)
            .Value("tokenizer.ggml.merges", merges);
    }

    private static string Latin1(byte[] bytes) => Encoding.Latin1.GetString(bytes);

    private static string ByteLevel(byte[] bytes) => string.Concat(bytes.Select(b => Flux2.Text.ByteLevelAlphabet.ForByte(b)));
}
