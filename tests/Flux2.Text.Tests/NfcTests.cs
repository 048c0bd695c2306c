using Flux2.Text.Normalization;

namespace Flux2.Text.Tests;

/// <summary>Expected values from Python's unicodedata.normalize("NFC", ...).</summary>
public class NfcTests
{
    [Theory]
    [InlineData("e\u0301", "\u00e9")]
    [InlineData("\u1100\u1161\u11a8", "\uac01")] // Hangul jamo L V T
    [InlineData("\u0958", "\u0915\u093c")] // composition exclusion stays decomposed
    [InlineData("\u212b", "\u00c5")] // singleton
    [InlineData("a\u0301\u0301", "\u00e1\u0301")] // the second acute is blocked
    [InlineData("q\u0307\u0323", "q\u0323\u0307")] // canonical reordering
    [InlineData("\u1e0b\u0323", "\u1e0d\u0307")] // reorder, then compose with the lower mark first
    [InlineData("e\u0301\u0327", "\u0229\u0301")]
    [InlineData("plain ASCII", "plain ASCII")]
    [InlineData("", "")]
    [InlineData("\U0001D15E", "\U0001D157\U0001D165")] // supplementary exclusion
    public void MatchesUnicodeNfc(string input, string expected)
    {
        Assert.Equal(expected, Nfc.Normalize(input));
    }
}
