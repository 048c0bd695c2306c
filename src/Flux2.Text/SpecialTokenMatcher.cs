using System.Text.RegularExpressions;

namespace Flux2.Text;

/// <summary>
/// Finds added/special tokens in raw text before any normalisation or pre-tokenization, leftmost-longest as the
/// Hugging Face tokenizers library does, so text like "&lt;|im_end|&gt;" always becomes one token.
/// </summary>
public sealed class SpecialTokenMatcher
{
    private readonly Dictionary<string, int> _ids;
    private readonly Regex? _regex;

    public SpecialTokenMatcher(IReadOnlyDictionary<string, int> tokens)
    {
        _ids = new Dictionary<string, int>(tokens, StringComparer.Ordinal);
        if (_ids.Count == 0) return;
        // Regex alternation is leftmost-first: listing longer tokens first makes it leftmost-longest.
        var alternatives = _ids.Keys.OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal).Select(Regex.Escape);
        _regex = new Regex(string.Join('|', alternatives), RegexOptions.CultureInvariant);
    }

    public IReadOnlyDictionary<string, int> Tokens => _ids;

    /// <summary>Splits <paramref name="text"/> into plain-text segments (Id = null) and special tokens (their id).</summary>
    public IEnumerable<(string Text, int? Id)> Split(string text)
    {
        int pos = 0;
        if (_regex != null)
        {
            for (var m = _regex.Match(text); m.Success; m = m.NextMatch())
            {
                if (m.Index > pos) yield return (text[pos..m.Index], null);
                yield return (m.Value, _ids[m.Value]);
                pos = m.Index + m.Length;
            }
        }
        if (pos < text.Length) yield return (text[pos..], null);
    }
}
