using System.Text;
using Flux2.Text.Normalization;
using Microsoft.ML.Tokenizers;

namespace Flux2.Text;

/// <summary>
/// A loaded tokenizer, applying the steps in the reference's order: added/special tokens are matched in the raw
/// text first; each remaining segment is normalised (NFC where the file asks for it), split by the pattern, and
/// each piece is encoded by the BPE model (Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> or
/// <see cref="TiktokenTokenizer"/>). No BOS/EOS is added: the chat templates carry their own special tokens.
/// Create with <see cref="HuggingFaceTokenizerJson"/> or <see cref="TekkenJson"/>.
/// </summary>
public sealed class TextTokenizer
{
    private readonly SpecialTokenMatcher _specials;
    private readonly bool _nfc;
    private readonly CodePointRegexSplitter _splitter;
    private readonly Tokenizer _model;
    private readonly IReadOnlyDictionary<string, int>? _wholePieceVocabulary;

    /// <param name="source">the file it was loaded from (for messages)</param>
    /// <param name="model">the BPE model, created without normaliser or pre-tokenizer</param>
    /// <param name="wholePieceVocabulary">byte-level vocabulary consulted for a whole piece before BPE (HF
    /// <c>ignore_merges</c>); null to always run BPE</param>
    internal TextTokenizer(string source, SpecialTokenMatcher specials, bool nfc, CodePointRegexSplitter splitter,
        Tokenizer model, IReadOnlyDictionary<string, int>? wholePieceVocabulary)
    {
        Source = source;
        _specials = specials;
        _nfc = nfc;
        _splitter = splitter;
        _model = model;
        _wholePieceVocabulary = wholePieceVocabulary;
    }

    public string Source { get; }

    /// <summary>The added/special tokens matched atomically in text, with their ids.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens => _specials.Tokens;

    public List<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (var (segment, specialId) in _specials.Split(ReplaceLoneSurrogates(text)))
        {
            if (specialId is int id)
            {
                ids.Add(id);
                continue;
            }
            foreach (var piece in _splitter.Split(_nfc ? Nfc.Normalize(segment) : segment))
            {
                if (_wholePieceVocabulary != null && _wholePieceVocabulary.TryGetValue(ByteLevelAlphabet.Encode(piece), out int whole))
                    ids.Add(whole);
                else
                    ids.AddRange(_model.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false));
            }
        }
        return ids;
    }

    /// <summary>Lone UTF-16 surrogates cannot be encoded as UTF-8; they become U+FFFD, as a UTF-8 conversion with
    /// replacement does.</summary>
    private static string ReplaceLoneSurrogates(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return text;
        var sb = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes()) sb.Append(rune.ToString());
        return sb.ToString();
    }
}
