using System.Text.Json;
using Flux2.Core.Checkpoints;
using Flux2.Core.Files;

namespace Flux2.Text;

/// <summary>Reads a tokenizer JSON file, turning malformed JSON and wrong structure into <see cref="TokenizerFormatException"/>.</summary>
internal static class TokenizerJsonFile
{
    public static T Parse<T>(string path, Func<JsonElement, T> read) =>
        Parse(path, RegularFile.ReadAllBytes(path, JsonText.MaxFileBytes, problem => new TokenizerFormatException(path, problem)), read);

    /// <param name="path">where <paramref name="bytes"/> came from (for messages)</param>
    public static T Parse<T>(string path, byte[] bytes, Func<JsonElement, T> read)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new TokenizerFormatException(path, $"not valid JSON ({e.Message})", e);
        }
        using (doc)
        {
            try
            {
                return read(doc.RootElement);
            }
            catch (Exception e) when (e is InvalidOperationException or KeyNotFoundException or FormatException)
            {
                // JsonElement accessors throw these on a wrong value kind, a missing property or an out-of-range number.
                throw new TokenizerFormatException(path, $"unexpected structure ({e.Message})", e);
            }
        }
    }

    /// <summary>The split pattern <paramref name="field"/> of <paramref name="path"/> as a pre-tokenizer.</summary>
    public static CodePointRegexSplitter Splitter(string path, string field, string pattern)
    {
        try
        {
            return new CodePointRegexSplitter(pattern);
        }
        catch (ArgumentException e)
        {
            throw new TokenizerFormatException(path, $"{field} is not a usable regular expression: {e.Message}", e);
        }
    }
}
