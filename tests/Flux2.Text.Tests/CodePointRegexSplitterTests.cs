namespace Flux2.Text.Tests;

public class CodePointRegexSplitterTests
{
    private const string QwenPattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Fact]
    public void SupplementaryCharactersAreClassifiedAsWholeCodePoints()
    {
        // Expected pieces: the same pattern run by a code-point regex engine (Python's regex module).
        var pieces = new CodePointRegexSplitter(QwenPattern).Split("a𠀀b 𝟏𝟐 ghi😀jkl'S");
        Assert.Equal(["a𠀀b", " ", "𝟏", "𝟐", " ghi", "😀jkl", "'S"], pieces);
    }

    [Fact]
    public void TextBetweenMatchesIsKeptAsPieces()
    {
        Assert.Equal(["x", "-", "y", "--"], new CodePointRegexSplitter("[a-z]").Split("x-y--"));
        Assert.Empty(new CodePointRegexSplitter("[a-z]").Split(""));
    }
}
