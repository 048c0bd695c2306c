using System.Buffers.Binary;
using System.Text;

namespace Flux2.Pipelines.Images;

/// <summary>
/// Puts an XMP packet into a WebP file as the container specification lays it out: the extended format, whose VP8X chunk
/// comes first and flags the metadata, with an "XMP " chunk after the image data. A simple lossy file (RIFF, then one
/// "VP8 " chunk) gets a VP8X chunk declaring its canvas; a file that has one already gets its XMP flag set.
/// </summary>
public static class WebpXmp
{
    private const byte XmpFlag = 0x04;

    /// <param name="webp">a WebP file as an encoder wrote it</param>
    /// <param name="entries">the metadata; none leaves the file as it is</param>
    public static byte[] Embed(byte[] webp, int width, int height, IReadOnlyList<KeyValuePair<string, string>> entries)
    {
        if (entries.Count == 0) return webp;
        if (webp.Length < 20 || !webp.AsSpan(0, 4).SequenceEqual("RIFF"u8) || !webp.AsSpan(8, 4).SequenceEqual("WEBP"u8))
            throw new ArgumentException("not a WebP file: no RIFF header of type WEBP", nameof(webp));

        var chunks = webp.AsSpan(12);
        using var output = new MemoryStream(webp.Length + 1024);
        output.Write(webp, 0, 12);
        switch (Encoding.ASCII.GetString(chunks[..4]))
        {
            case "VP8 ":
                var canvas = new byte[10];
                canvas[0] = XmpFlag;
                WriteUInt24(canvas.AsSpan(4), width - 1);
                WriteUInt24(canvas.AsSpan(7), height - 1);
                WriteChunk(output, "VP8X", canvas);
                output.Write(chunks);
                break;
            case "VP8X":
                output.Write(chunks);
                output.GetBuffer()[12 + 8] |= XmpFlag;
                break;
            default:
                throw new ArgumentException($"the WebP file's first chunk is '{Encoding.ASCII.GetString(chunks[..4])}', not 'VP8 ' or 'VP8X'", nameof(webp));
        }
        WriteChunk(output, "XMP ", XmpPacket.Serialize(XmpPacket.Properties(entries), wrapped: true));

        var file = output.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(4), (uint)(file.Length - 8));
        return file;
    }

    /// <summary>A chunk: its type, its size, its data, and a zero byte after odd-sized data.</summary>
    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> header = stackalloc byte[8];
        Encoding.ASCII.GetBytes(type, header);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], (uint)data.Length);
        output.Write(header);
        output.Write(data);
        if (data.Length % 2 == 1) output.WriteByte(0);
    }

    private static void WriteUInt24(Span<byte> to, int value)
    {
        to[0] = (byte)value;
        to[1] = (byte)(value >> 8);
        to[2] = (byte)(value >> 16);
    }
}
