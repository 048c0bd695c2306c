using System.Text;

namespace Flux2.Server.Tests;

/// <summary>What the server's image bytes are, by their magic numbers.</summary>
public static class ImageFormats
{
    /// <summary>png, jpeg or webp by the file's first bytes; "unknown" otherwise.</summary>
    public static string Of(byte[] bytes) =>
        bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[137, 80, 78, 71, 13, 10, 26, 10]) ? "png"
        : bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "jpeg"
        : bytes.Length >= 12 && Encoding.ASCII.GetString(bytes, 0, 4) == "RIFF" && Encoding.ASCII.GetString(bytes, 8, 4) == "WEBP" ? "webp"
        : "unknown";
}
