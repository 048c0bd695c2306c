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
}
