using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;

namespace Flux2.Tests;

/// <summary>Hand-built image files for the reader tests: PNGs of any colour type (with their own CRC, independent of the
/// code under test), and JPEG and WebP files declaring any size; readers of the metadata written images carry.</summary>
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

    /// <summary>The fixture JPEG (tests/fixtures/images) with its frame header (SOF0) changed to declare
    /// <paramref name="width"/>×<paramref name="height"/>: a complete, small file whose header asks for a huge decode.</summary>
    public static byte[] JpegDeclaring(int width, int height)
    {
        var jpeg = File.ReadAllBytes(Fixtures.File("images", "q75-422.jpg"));
        int sof = jpeg.AsSpan().IndexOf((ReadOnlySpan<byte>)[0xFF, 0xC0]);
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 5), checked((ushort)height));
        BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(sof + 7), checked((ushort)width));
        return jpeg;
    }

    /// <summary>The fixture lossy WebP (a RIFF header, then one 'VP8 ' chunk) with its key-frame header changed to declare
    /// <paramref name="width"/>×<paramref name="height"/> (14 bits each, at most 16383).</summary>
    public static byte[] WebpDeclaring(int width, int height)
    {
        var webp = File.ReadAllBytes(Fixtures.File("images", "q80.webp"));
        if (Encoding.Latin1.GetString(webp, 12, 4) != "VP8 ") throw new InvalidDataException("the WebP fixture is not a simple lossy file");
        // Chunk data at 20: a 3-byte frame tag, the start code 9D 01 2A, then width and height (little-endian, 14 bits).
        BinaryPrimitives.WriteUInt16LittleEndian(webp.AsSpan(26), checked((ushort)width));
        BinaryPrimitives.WriteUInt16LittleEndian(webp.AsSpan(28), checked((ushort)height));
        return webp;
    }

    /// <summary>Mean absolute difference of the 8×8 block averages of two same-sized images, per channel: what lossy
    /// codecs keep (each block's mean) even for the noise-like images of the tiny test model, whose pixel-wise error is
    /// large at any quality.</summary>
    /// <param name="width">the images' width; <paramref name="a"/> and <paramref name="b"/> are their RGB pixels</param>
    public static double BlockMeanDifference(int width, byte[] a, byte[] b)
    {
        Assert.Equal(a.Length, b.Length);
        int height = a.Length / (3 * width);
        double total = 0;
        int blocks = 0;
        for (int by = 0; by + 8 <= height; by += 8)
            for (int bx = 0; bx + 8 <= width; bx += 8)
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (int y = by; y < by + 8; y++)
                        for (int x = bx; x < bx + 8; x++)
                            sum += a[(y * width + x) * 3 + c] - b[(y * width + x) * 3 + c];
                    total += Math.Abs(sum / 64);
                    blocks++;
                }
        return total / blocks;
    }

    /// <summary>The tEXt / iTXt entries of a PNG file.</summary>
    public static Dictionary<string, string> PngText(byte[] png)
    {
        var text = new Dictionary<string, string>();
        for (int pos = 8; pos < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, length);
            int nul = data.IndexOf((byte)0);
            if (type == "tEXt") text[Encoding.Latin1.GetString(data[..nul])] = Encoding.Latin1.GetString(data[(nul + 1)..]);
            if (type == "iTXt") text[Encoding.Latin1.GetString(data[..nul])] = Encoding.UTF8.GetString(data[(nul + 5)..]);
            pos += 12 + length;
        }
        return text;
    }

    /// <summary>A JPEG file's marker segments before its scan: each marker's second byte and its payload.</summary>
    public static List<(byte Marker, byte[] Payload)> JpegSegments(byte[] jpeg)
    {
        var segments = new List<(byte, byte[])>();
        for (int pos = 2; jpeg[pos + 1] != 0xDA;)
        {
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(pos + 2));
            segments.Add((jpeg[pos + 1], jpeg[(pos + 4)..(pos + 2 + length)]));
            pos += 2 + length;
        }
        return segments;
    }

    /// <summary>The XMP properties of a JPEG or WebP file by name (flux2:NAME as NAME, xmp:CreatorTool as "Software"), read
    /// as the XMP specification says: JPEG's APP1 packet joined with its extended XMP (checked against the MD5 the packet
    /// names), WebP's "XMP " chunk.</summary>
    public static Dictionary<string, string> XmpText(byte[] file)
    {
        var properties = new Dictionary<string, string>();
        if (file[0] == 0xFF)
        {
            var segments = JpegSegments(file).Where(s => s.Marker == 0xE1).Select(s => s.Payload).ToArray();
            var main = segments.SingleOrDefault(p => p.AsSpan().StartsWith("http://ns.adobe.com/xap/1.0/\0"u8));
            if (main == null) return properties;
            AddXmpProperties(main[29..], properties);
            if (properties.Remove("HasExtendedXMP", out var guid))
            {
                var parts = segments.Where(p => p.AsSpan().StartsWith("http://ns.adobe.com/xmp/extension/\0"u8)).ToArray();
                Assert.All(parts, p => Assert.Equal(guid, Encoding.ASCII.GetString(p, 35, 32)));
                var extension = new byte[BinaryPrimitives.ReadUInt32BigEndian(parts[0].AsSpan(67))];
                foreach (var p in parts) p.AsSpan(75).CopyTo(extension.AsSpan((int)BinaryPrimitives.ReadUInt32BigEndian(p.AsSpan(71))));
                Assert.Equal(guid, Convert.ToHexString(MD5.HashData(extension)));
                AddXmpProperties(extension, properties);
            }
            return properties;
        }
        for (int pos = 12; pos < file.Length;)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(file.AsSpan(pos + 4));
            if (Encoding.ASCII.GetString(file, pos, 4) == "XMP ") AddXmpProperties(file[(pos + 8)..(pos + 8 + length)], properties);
            pos += 8 + length + length % 2;
        }
        return properties;
    }

    private static void AddXmpProperties(byte[] xml, Dictionary<string, string> properties)
    {
        XNamespace rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#";
        foreach (var property in XDocument.Parse(Encoding.UTF8.GetString(xml)).Descendants(rdf + "Description").Elements())
            properties.Add(property.Name.LocalName == "CreatorTool" ? "Software" : property.Name.LocalName, property.Value);
    }

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
