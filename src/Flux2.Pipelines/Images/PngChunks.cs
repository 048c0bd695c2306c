using System.Buffers.Binary;
using System.Text;

namespace Flux2.Pipelines.Images;

/// <summary>
/// Checks the chunk structure of a PNG file before it is decoded: every chunk complete and its CRC right, up to IEND.
/// stb ignores CRCs and reports truncation without a reason; PIL, which the reference pipelines read images with, refuses
/// both, and so does this.
/// </summary>
public static class PngChunks
{
    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.StartsWith(Signature);

    /// <summary>Throws <see cref="ImageFileException"/> naming <paramref name="name"/>, the chunk and its offset when the
    /// file is truncated or a chunk's CRC does not match its data.</summary>
    public static void Verify(ReadOnlySpan<byte> bytes, string name)
    {
        int at = Signature.Length;
        while (true)
        {
            if (bytes.Length - at < 8)
                throw new ImageFileException($"{name}: truncated PNG: the file ends at byte {bytes.Length} without an IEND chunk");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes[at..]);
            var type = Encoding.Latin1.GetString(bytes.Slice(at + 4, 4));
            if (length > int.MaxValue || bytes.Length - at - 12 < length)
                throw new ImageFileException($"{name}: truncated PNG: chunk '{type}' at byte {at} declares {length} bytes of data, " +
                    $"but the file ends at byte {bytes.Length}");
            var typeAndData = bytes.Slice(at + 4, 4 + (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(bytes[(at + 8 + (int)length)..]);
            uint computed = Crc32.Compute(typeAndData);
            if (stored != computed)
                throw new ImageFileException($"{name}: corrupt PNG: chunk '{type}' at byte {at} has CRC 0x{stored:X8}, but its data gives 0x{computed:X8}");
            if (type == "IEND") return;
            at += 12 + (int)length;
        }
    }
}
