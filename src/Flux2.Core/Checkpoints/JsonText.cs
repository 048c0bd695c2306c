using System.Text.Json;

namespace Flux2.Core.Checkpoints;

/// <summary>Parses the JSON files that come with checkpoints (configs, indexes), which editors on some systems
/// save with a UTF-8 byte-order mark that <see cref="JsonDocument"/> would reject.</summary>
public static class JsonText
{
    public static JsonDocument Parse(byte[] utf8)
    {
        ReadOnlyMemory<byte> json = utf8;
        if (json.Span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) json = json[3..];
        return JsonDocument.Parse(json);
    }

    /// <summary>Reads and parses <paramref name="path"/>; an unreadable file or invalid JSON becomes the caller's
    /// exception, built by <paramref name="error"/> from the problem ("not valid JSON: …", "cannot read: …") and its cause.</summary>
    public static JsonDocument ReadFile(string path, Func<string, Exception, Exception> error)
    {
        try { return Parse(File.ReadAllBytes(path)); }
        catch (JsonException e) { throw error("not valid JSON: " + e.Message, e); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw error("cannot read: " + e.Message, e); }
    }
}
