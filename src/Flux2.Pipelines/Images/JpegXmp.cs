using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Flux2.Pipelines.Images;

/// <summary>
/// Puts an XMP packet into a JPEG file as the XMP specification (part 3, "JPEG") lays it out: an APP1 segment after the
/// JFIF header, and, for a packet over one segment's 64 KiB (a prompt can be 65 536 characters), "extended XMP": the main
/// packet then only names the extension by the MD5 of its bytes (<c>xmpNote:HasExtendedXMP</c>), and the extension follows
/// in APP1 segments of at most <see cref="ExtensionChunkBytes"/>, each with its offset, which readers join again.
/// </summary>
public static class JpegXmp
{
    private static readonly byte[] StandardSignature = Encoding.ASCII.GetBytes("http://ns.adobe.com/xap/1.0/\0");
    private static readonly byte[] ExtensionSignature = Encoding.ASCII.GetBytes("http://ns.adobe.com/xmp/extension/\0");

    /// <summary>A segment's payload: 65 535 bytes less its 2-byte length field.</summary>
    private const int MaxSegmentPayload = 65_533;

    /// <summary>The part of the extension each segment carries, as Adobe's own writers split it.</summary>
    public const int ExtensionChunkBytes = 65_400;

    /// <param name="jpeg">a JPEG file as an encoder wrote it (SOI, then its marker segments)</param>
    /// <param name="entries">the metadata; none leaves the file as it is</param>
    public static byte[] Embed(byte[] jpeg, IReadOnlyList<KeyValuePair<string, string>> entries)
    {
        if (entries.Count == 0) return jpeg;
        if (jpeg.Length < 4 || jpeg[0] != 0xFF || jpeg[1] != 0xD8)
            throw new ArgumentException("not a JPEG file: it does not start with the SOI marker", nameof(jpeg));

        var properties = XmpPacket.Properties(entries);
        var segments = new List<byte[]>();
        var packet = XmpPacket.Serialize(properties, wrapped: true);
        if (StandardSignature.Length + packet.Length <= MaxSegmentPayload)
        {
            segments.Add([.. StandardSignature, .. packet]);
        }
        else
        {
            var extension = XmpPacket.Serialize(properties, wrapped: false);
            var guid = Convert.ToHexString(MD5.HashData(extension));
            segments.Add([.. StandardSignature, .. XmpPacket.Serialize([(XmpPacket.XmpNote + "HasExtendedXMP", guid)], wrapped: true)]);
            for (int offset = 0; offset < extension.Length; offset += ExtensionChunkBytes)
            {
                var header = new byte[8];
                BinaryPrimitives.WriteUInt32BigEndian(header, (uint)extension.Length);
                BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(4), (uint)offset);
                var chunk = extension.AsSpan(offset, Math.Min(ExtensionChunkBytes, extension.Length - offset));
                segments.Add([.. ExtensionSignature, .. Encoding.ASCII.GetBytes(guid), .. header, .. chunk]);
            }
        }

        // JFIF requires its APP0 segment right after SOI: the XMP goes after it.
        int at = 2;
        if (jpeg[2] == 0xFF && jpeg[3] == 0xE0) at = 4 + BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(4));
        using var output = new MemoryStream(jpeg.Length + segments.Sum(s => s.Length + 4));
        output.Write(jpeg, 0, at);
        foreach (var payload in segments)
        {
            output.Write([0xFF, 0xE1, (byte)((payload.Length + 2) >> 8), (byte)(payload.Length + 2)]);
            output.Write(payload);
        }
        output.Write(jpeg, at, jpeg.Length - at);
        return output.ToArray();
    }
}
