using Microsoft.ML.Tokenizers;

namespace Flux2.Text;

/// <summary>The BPE model of a byte-level vocabulary and its merges, as a tokenizer.json or a GGUF file holds them.</summary>
internal static class ByteLevelBpeModel
{
    /// <param name="source">names the file in messages</param>
    /// <param name="vocabularyName">names the vocabulary in messages ("model.vocab")</param>
    /// <param name="merges">in priority order; each pair and its concatenation must be tokens of the vocabulary</param>
    public static BpeTokenizer Create(string source, string vocabularyName, Dictionary<string, int> vocabulary, IReadOnlyList<(string Left, string Right)> merges)
    {
        // With every byte in the vocabulary no piece can be unknown, so unk_token is never needed.
        for (int b = 0; b < 256; b++)
            if (!vocabulary.ContainsKey(ByteLevelAlphabet.ForByte((byte)b).ToString()))
                throw new TokenizerFormatException(source, $"{vocabularyName} has no token for the byte 0x{b:X2} (\"{ByteLevelAlphabet.ForByte((byte)b)}\"), which byte-level BPE needs");
        foreach (var (left, right) in merges)
        {
            // The library reads merges as "a b" lines; a token with a space in it cannot be written that way.
            if (left.Contains(' ') || right.Contains(' '))
                throw new TokenizerFormatException(source, $"merge [\"{left}\", \"{right}\"] has a token containing a space, which this BPE implementation cannot represent");
            foreach (var token in new[] { left, right, left + right })
                if (!vocabulary.ContainsKey(token)) throw new TokenizerFormatException(source, $"merge \"{left} {right}\" uses \"{token}\", which is not in {vocabularyName}");
        }
        // A repeated merge keeps its last position: HF builds its rank table by inserting in order, so a later duplicate's rank wins.
        var lastIndex = new Dictionary<(string, string), int>();
        for (int i = 0; i < merges.Count; i++) lastIndex[merges[i]] = i;
        var options = new BpeOptions(vocabulary)
        {
            Merges = merges.Where((p, i) => lastIndex[p] == i).Select(p => p.Left + " " + p.Right).ToList(),
            ByteLevel = true,
        };
        try
        {
            return BpeTokenizer.Create(options);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            throw new TokenizerFormatException(source, $"the BPE model cannot be built: {e.Message}", e);
        }
    }
}
