using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Flux2.Text;

/// <summary>
/// The tokenizer's Split pre-tokenizer (behaviour "Isolated": matches and the text between them become pieces).
/// .NET's Regex sees UTF-16 code units, so classes like \p{L} or [^\s\p{L}\p{N}] would judge the two surrogate
/// halves of a supplementary character instead of the character (𠀀 is a letter, 𝟏 a digit, and "😀jkl" is one
/// piece for the reference). The pattern therefore runs on a copy of the text in which every supplementary
/// character is one BMP stand-in of the same Unicode category, and the piece offsets are mapped back.
/// </summary>
public sealed class CodePointRegexSplitter
{
    private static readonly Dictionary<UnicodeCategory, char> StandIns = BuildStandIns();

    private readonly Regex _regex;

    /// <exception cref="ArgumentException">the pattern is not valid .NET regex syntax</exception>
    public CodePointRegexSplitter(string pattern)
    {
        _regex = new Regex(pattern, RegexOptions.CultureInvariant);
        Pattern = pattern;
    }

    public string Pattern { get; }

    public List<string> Split(string text)
    {
        var pieces = new List<string>();
        if (text.Length == 0) return pieces;
        var (subject, offsets) = WithStandIns(text);
        int pos = 0;
        for (var m = _regex.Match(subject); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0) continue;
            if (m.Index > pos) pieces.Add(Slice(text, offsets, pos, m.Index));
            pieces.Add(Slice(text, offsets, m.Index, m.Index + m.Length));
            pos = m.Index + m.Length;
        }
        if (pos < subject.Length) pieces.Add(Slice(text, offsets, pos, subject.Length));
        return pieces;
    }

    private static string Slice(string text, int[]? offsets, int start, int end) =>
        offsets == null ? text[start..end] : text[offsets[start]..offsets[end]];

    /// <summary>The text with each surrogate pair replaced by one stand-in character, and (only when something was
    /// replaced) the map from each stand-in-text index to the original index, with one extra entry for the end.</summary>
    private static (string Subject, int[]? Offsets) WithStandIns(string text)
    {
        if (!text.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF')) return (text, null);
        var subject = new StringBuilder(text.Length);
        var offsets = new List<int>(text.Length + 1);
        for (int i = 0; i < text.Length; i++)
        {
            offsets.Add(i);
            if (char.IsSurrogatePair(text, i))
            {
                subject.Append(StandIns[CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text, i))]);
                i++;
            }
            else
            {
                subject.Append(text[i]);
            }
        }
        offsets.Add(text.Length);
        return (subject.ToString(), offsets.ToArray());
    }

    /// <summary>For each category, the first non-ASCII BMP character of that category (ASCII is avoided so that
    /// case-insensitive literals like 's in the patterns can never match a stand-in).</summary>
    private static Dictionary<UnicodeCategory, char> BuildStandIns()
    {
        var map = new Dictionary<UnicodeCategory, char>();
        for (int c = 0x80; c <= 0xFFFF; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            map.TryAdd(CharUnicodeInfo.GetUnicodeCategory((char)c), (char)c);
        }
        return map;
    }
}
