using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.ML.Tokenizers;

namespace Flux2.Text;

/// <summary>
/// Loads Mistral's native <c>tekken.json</c> (spec §8.2): a tiktoken-style vocabulary of base64 byte strings in
/// rank order, no merges, the split pattern in <c>config.pattern</c>. Special tokens take ids
/// 0..default_num_special_tokens−1 (unlisted ones are the placeholders &lt;SPECIAL_i&gt;), a normal token's id is
/// rank + default_num_special_tokens, and only the first default_vocab_size − default_num_special_tokens ranks are
/// used. Tokens are byte strings (some are not valid UTF-8 alone), so the model is a byte-keyed
/// <see cref="TiktokenTokenizer"/>. No normaliser.
/// </summary>
public static class TekkenJson
{
    public static TextTokenizer Load(string path) => TokenizerJsonFile.Parse(path, root => Parse(path, root));

    private static TextTokenizer Parse(string path, JsonElement root)
    {
        var config = root.GetProperty("config");
        string pattern = config.GetProperty("pattern").GetString()
            ?? throw new TokenizerFormatException(path, "config.pattern is null");
        int numSpecial = config.GetProperty("default_num_special_tokens").GetInt32();
        int vocabSize = config.GetProperty("default_vocab_size").GetInt32();
        if (numSpecial <= 0 || vocabSize <= numSpecial)
            throw new TokenizerFormatException(path, $"config has default_num_special_tokens = {numSpecial} and default_vocab_size = {vocabSize}; expected 0 < special < vocab size");

        var specials = ReadSpecialTokens(path, root, numSpecial);
        var lines = ReadVocabulary(path, root.GetProperty("vocab"), vocabSize - numSpecial, numSpecial);

        var splitter = TokenizerJsonFile.Splitter(path, "config.pattern", pattern);
        var model = TiktokenTokenizer.Create(new MemoryStream(Encoding.ASCII.GetBytes(lines)), preTokenizer: null, normalizer: null);
        return new TextTokenizer(path, new SpecialTokenMatcher(specials), nfc: false, splitter, model, wholePieceVocabulary: null);
    }

    private static Dictionary<string, int> ReadSpecialTokens(string path, JsonElement root, int numSpecial)
    {
        if (!root.TryGetProperty("special_tokens", out var list) || list.ValueKind != JsonValueKind.Array)
            throw new TokenizerFormatException(path, $"tekken.json without a \"special_tokens\" list (a pre-v7 file) is not supported");
        var names = new string?[numSpecial];
        foreach (var entry in list.EnumerateArray())
        {
            int rank = entry.GetProperty("rank").GetInt32();
            string name = entry.GetProperty("token_str").GetString() ?? "";
            if ((uint)rank >= (uint)numSpecial) throw new TokenizerFormatException(path, $"special token \"{name}\" has rank {rank}, outside 0..{numSpecial - 1}");
            if (names[rank] != null) throw new TokenizerFormatException(path, $"special tokens \"{names[rank]}\" and \"{name}\" share rank {rank}");
            if (name.Length == 0) throw new TokenizerFormatException(path, $"special token {rank} has an empty token_str");
            names[rank] = name;
        }
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int id = 0; id < numSpecial; id++)
        {
            string name = names[id] ?? $"<SPECIAL_{id}>";
            if (!specials.TryAdd(name, id)) throw new TokenizerFormatException(path, $"special token \"{name}\" appears twice");
        }
        return specials;
    }

    /// <summary>The vocabulary as tiktoken lines "base64 id"; ranks must be 0, 1, 2, ..., byte strings unique, and
    /// every single byte present.</summary>
    private static string ReadVocabulary(string path, JsonElement vocab, int maxTokens, int idOffset)
    {
        var lines = new StringBuilder();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var singleBytes = new bool[256];
        int rank = 0;
        foreach (var entry in vocab.EnumerateArray())
        {
            if (rank == maxTokens) break;
            int fileRank = entry.GetProperty("rank").GetInt32();
            if (fileRank != rank) throw new TokenizerFormatException(path, $"vocab entry {rank} has rank {fileRank}; ranks must be 0, 1, 2, ... in order");
            string base64 = entry.GetProperty("token_bytes").GetString() ?? "";
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(base64);
            }
            catch (FormatException e)
            {
                throw new TokenizerFormatException(path, $"vocab entry {rank}: token_bytes \"{base64}\" is not base64", e);
            }
            if (bytes.Length == 0) throw new TokenizerFormatException(path, $"vocab entry {rank} is empty");
            // Re-encode so that equal byte strings compare equal whatever base64 padding the file used.
            string canonical = Convert.ToBase64String(bytes);
            if (!seen.Add(canonical)) throw new TokenizerFormatException(path, $"vocab entry {rank} repeats an earlier token's bytes");
            if (bytes.Length == 1) singleBytes[bytes[0]] = true;
            lines.Append(canonical).Append(' ').Append((rank + idOffset).ToString(CultureInfo.InvariantCulture)).Append('\n');
            rank++;
        }
        // Byte-level BPE starts from single bytes: without all 256 some texts could not be encoded at all.
        int missing = Array.IndexOf(singleBytes, false);
        if (missing >= 0) throw new TokenizerFormatException(path, $"the vocabulary has no token for the single byte 0x{missing:X2}");
        return lines.ToString();
    }
}
