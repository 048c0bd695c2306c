using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Flux2.Tests;

/// <summary>Hand-built image files for the reader tests: PNGs of any colour type (with their own CRC, independent of the
/// code under test) and JPEG headers declaring any size.</summary>
public static class TestImages
{
    /// <summary>A PNG of <paramref name="width"/>×<paramref name="height"/> whose scanlines (each without its filter byte)
    /// <paramref name="row"/> gives; filter 0 everywhere.</summary>
    public static byte[] Png(int width, int height, byte colorType, byte bitDepth, Func<int, byte[]> row)
    {
        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(row(y));
            }
        }
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = bitDepth;
        header[9] = colorType;
        using var png = new MemoryStream();
        png.Write([137, 80, 78, 71, 13, 10, 26, 10]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", raw.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A baseline JPEG header declaring <paramref name="width"/>×<paramref name="height"/> (one grey component), and no image data.</summary>
    public static byte[] JpegHeader(int width, int height) =>
    [
        0xFF, 0xD8,                                                       // SOI
        0xFF, 0xC0, 0, 11, 8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 1, 1, 0x11, 0, // SOF0
        0xFF, 0xD9,                                                       // EOI
    ];

    /// <summary>Byte offset of the first chunk of <paramref name="type"/> in <paramref name="png"/>.</summary>
    public static int ChunkOffset(byte[] png, string type)
    {
        int at = 8;
        while (Encoding.Latin1.GetString(png, at + 4, 4) != type) at += 12 + BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
        return at;
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        png.Write(word);
        var typeAndData = Encoding.Latin1.GetBytes(type).Concat(data).ToArray();
        png.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(word, Crc(typeAndData));
        png.Write(word);
    }

    private static uint Crc(byte[] bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }
}
