using System.Text.Json;
using Flux2.Core.Files;

namespace Flux2.Core.Checkpoints;

/// <summary>Parses the JSON files that come with checkpoints (configs, indexes), which editors on some systems
/// save with a UTF-8 byte-order mark that <see cref="JsonDocument"/> would reject.</summary>
public static class JsonText
{
    /// <summary>Largest JSON file read (a real tokenizer.json is about 11 MB, a shard index well under 1 MB).</summary>
    public const long MaxFileBytes = 100_000_000;

    public static JsonDocument Parse(byte[] utf8)
    {
        ReadOnlyMemory<byte> json = utf8;
        if (json.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        return JsonDocument.Parse(json);
    }

    /// <summary>Reads and parses <paramref name="path"/> (a regular file of at most <see cref="MaxFileBytes"/>); an unreadable
    /// file or invalid JSON becomes the caller's exception, built by <paramref name="error"/> from the problem
    /// ("not valid JSON: …", "cannot read: …", "is a FIFO (named pipe), not a regular file") and its cause.</summary>
    public static JsonDocument ReadFile(string path, Func<string, Exception?, Exception> error)
    {
        var bytes = RegularFile.ReadAllBytes(path, MaxFileBytes, problem => error(problem, null));
        try { return Parse(bytes); }
        catch (JsonException e) { throw error("not valid JSON: " + e.Message, e); }
    }
}
