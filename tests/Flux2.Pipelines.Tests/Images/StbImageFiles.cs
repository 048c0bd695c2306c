using System.Buffers.Binary;
using System.Text;
using Flux2.Pipelines.Images;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>Hand-built BMP, TGA, PSD, HDR and GIF files (the formats the reader decodes through StbImageSharp), each
/// written by the format's specification, of one test pattern: eight colours whose channels are 0 or 255 (all that flat
/// HDR values map back to exactly), in runs of four along each row so that the RLE variants have runs to find.</summary>
internal static class StbImageFiles
{
    /// <summary>The pixels every file built here holds, as the reader should give them back.</summary>
    public static RgbImage Pattern(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                Colour(ColourIndex(x, y)).CopyTo(pixels, (y * width + x) * 3);
        return new RgbImage(width, height, pixels);
    }

    /// <summary>A bottom-up BMP with a 40-byte header: 24-bit BGR, 32-bit BGRA (alpha 255), or 8-bit indices into a
    /// palette of the eight colours.</summary>
    public static byte[] Bmp(int width, int height, int bitsPerPixel)
    {
        int paletteEntries = bitsPerPixel == 8 ? 8 : 0;
        int rowBytes = width * bitsPerPixel / 8, stride = (rowBytes + 3) & ~3;
        int offset = 14 + 40 + 4 * paletteEntries;
        var bmp = new byte[offset + stride * height];
        "BM"u8.CopyTo(bmp);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(2), bmp.Length);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(10), offset);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), height);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(bmp.AsSpan(28), (short)bitsPerPixel);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(34), stride * height);
        BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(46), paletteEntries);
        for (int i = 0; i < paletteEntries; i++)
            Bgr(Colour(i)).CopyTo(bmp, 54 + 4 * i);
        for (int y = 0; y < height; y++)
        {
            int row = offset + (height - 1 - y) * stride;
            for (int x = 0; x < width; x++)
            {
                if (bitsPerPixel == 8)
                    bmp[row + x] = (byte)ColourIndex(x, y);
                else
                {
                    Bgr(Colour(ColourIndex(x, y))).AsSpan(0, 3).CopyTo(bmp.AsSpan(row + x * bitsPerPixel / 8));
                    if (bitsPerPixel == 32) bmp[row + x * 4 + 3] = 255;
                }
            }
        }
        return bmp;
    }

    /// <summary>A top-down 24-bit truecolour TGA, raw or run-length encoded (a packet per run of equal pixels within a row,
    /// as the specification asks: a raw packet for a single pixel, a run packet otherwise).</summary>
    public static byte[] Tga(int width, int height, bool rle)
    {
        using var tga = new MemoryStream();
        var header = new byte[18];
        header[2] = (byte)(rle ? 10 : 2);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(12), (short)width);
        BinaryPrimitives.WriteInt16LittleEndian(header.AsSpan(14), (short)height);
        header[16] = 24;
        header[17] = 0x20; // top-left origin
        tga.Write(header);
        for (int y = 0; y < height; y++)
        {
            var indices = Enumerable.Range(0, width).Select(x => ColourIndex(x, y)).ToArray();
            foreach (var (start, length) in rle ? Runs(indices, 128) : Enumerable.Range(0, width).Select(x => (Start: x, Length: 1)))
            {
                if (rle) tga.WriteByte((byte)((length > 1 ? 0x80 : 0) | (length - 1)));
                tga.Write(Bgr(Colour(indices[start]))[..3]);
            }
        }
        return tga.ToArray();
    }

    /// <summary>An RGB PSD (no colour-mode data, resources or layers) of 8 or 16 bits a channel (a 16-bit sample repeats
    /// the 8-bit value in both bytes): planar channels, raw or PackBits-compressed row by row after the table of each row's
    /// compressed length.</summary>
    public static byte[] Psd(int width, int height, bool rle, int bitsPerChannel = 8)
    {
        using var psd = new MemoryStream();
        var header = new byte[26 + 3 * 4 + 2];
        "8BPS"u8.CopyTo(header);
        BinaryPrimitives.WriteInt16BigEndian(header.AsSpan(4), 1);
        BinaryPrimitives.WriteInt16BigEndian(header.AsSpan(12), 3);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(14), height);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(18), width);
        BinaryPrimitives.WriteInt16BigEndian(header.AsSpan(22), (short)bitsPerChannel);
        BinaryPrimitives.WriteInt16BigEndian(header.AsSpan(24), 3);
        BinaryPrimitives.WriteInt16BigEndian(header.AsSpan(38), (short)(rle ? 1 : 0));
        psd.Write(header);
        var rows = new List<byte[]>();
        for (int channel = 0; channel < 3; channel++)
            for (int y = 0; y < height; y++)
            {
                var row = Enumerable.Range(0, width)
                    .SelectMany(x => Enumerable.Repeat(Colour(ColourIndex(x, y))[channel], bitsPerChannel / 8)).ToArray();
                rows.Add(rle ? PackBits(row) : row);
            }
        if (rle)
            foreach (var row in rows)
                psd.Write([(byte)(row.Length >> 8), (byte)row.Length]);
        foreach (var row in rows) psd.Write(row);
        return psd.ToArray();
    }

    /// <summary>A Radiance HDR file: flat RGBE pixels, or new-style RLE scanlines (2, 2, the width, then each of the four
    /// components run-length encoded: 128 + n then a byte for a run, n then n bytes for literals).</summary>
    public static byte[] Hdr(int width, int height, bool rle)
    {
        using var hdr = new MemoryStream();
        hdr.Write(Encoding.ASCII.GetBytes($"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y {height} +X {width}\n"));
        for (int y = 0; y < height; y++)
        {
            var rgbe = Enumerable.Range(0, width).Select(x => Rgbe(Colour(ColourIndex(x, y)))).ToArray();
            if (!rle)
            {
                foreach (var pixel in rgbe) hdr.Write(pixel);
                continue;
            }
            hdr.Write([2, 2, (byte)(width >> 8), (byte)width]);
            for (int component = 0; component < 4; component++)
            {
                var values = rgbe.Select(pixel => pixel[component]).ToArray();
                foreach (var (start, length) in Runs(values, 127))
                    hdr.Write([(byte)(length > 1 ? 128 + length : 1), values[start]]);
            }
        }
        return hdr.ToArray();
    }

    /// <summary>A GIF89a of one image with the eight colours as its global table. The LZW data uses 4-bit codes only: a
    /// clear code before every six pixels keeps the code table from growing past what 4 bits address.</summary>
    /// <param name="codedPixels">how many of the pixels the data holds (default: all of them)</param>
    /// <param name="endCode">whether the data ends with the end code, or only with its empty sub-block</param>
    public static byte[] Gif(int width, int height, int? codedPixels = null, bool endCode = true)
    {
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        gif.Write([(byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0x82, 0, 0]); // global table of 2^3 colours
        for (int i = 0; i < 8; i++) gif.Write(Colour(i));
        gif.Write([0x2C, 0, 0, 0, 0, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0]);
        const int minimumCodeSize = 3, clear = 1 << minimumCodeSize, end = clear + 1;
        var codes = new List<int>();
        for (int i = 0; i < (codedPixels ?? width * height); i++)
        {
            if (i % 6 == 0) codes.Add(clear);
            codes.Add(ColourIndex(i % width, i / width));
        }
        if (endCode) codes.Add(end);
        var lzw = new byte[(codes.Count + 1) / 2];
        for (int i = 0; i < codes.Count; i++) lzw[i / 2] |= (byte)(codes[i] << (i % 2 * 4)); // 4-bit codes, least significant first
        gif.WriteByte(minimumCodeSize);
        foreach (var block in lzw.Chunk(255))
        {
            gif.WriteByte((byte)block.Length);
            gif.Write(block);
        }
        gif.Write([0, 0x3B]); // the data's terminating empty block, then the trailer
        return gif.ToArray();
    }

    /// <summary><paramref name="file"/> (built above) with its header changed to declare
    /// <paramref name="width"/>×<paramref name="height"/>, its data left as it is: a small file whose header asks for a
    /// huge decode.</summary>
    public static byte[] Declaring(byte[] file, int width, int height)
    {
        var lying = file.ToArray();
        switch (Encoding.ASCII.GetString(file, 0, 2))
        {
            case "BM":
                BinaryPrimitives.WriteInt32LittleEndian(lying.AsSpan(18), width);
                BinaryPrimitives.WriteInt32LittleEndian(lying.AsSpan(22), height);
                return lying;
            case "8B":
                BinaryPrimitives.WriteInt32BigEndian(lying.AsSpan(14), height);
                BinaryPrimitives.WriteInt32BigEndian(lying.AsSpan(18), width);
                return lying;
            case "GI":
                foreach (int at in (int[])[6, 13 + 8 * 3 + 5]) // the screen, then the image descriptor
                {
                    BinaryPrimitives.WriteUInt16LittleEndian(lying.AsSpan(at), (ushort)width);
                    BinaryPrimitives.WriteUInt16LittleEndian(lying.AsSpan(at + 2), (ushort)height);
                }
                return lying;
            case "#?":
                var text = Encoding.Latin1.GetString(file);
                int resolution = text.IndexOf("-Y ", StringComparison.Ordinal), data = text.IndexOf('\n', resolution) + 1;
                return [.. Encoding.ASCII.GetBytes(text[..resolution] + $"-Y {height} +X {width}\n"), .. file[data..]];
            default: // TGA, whose header has no signature
                BinaryPrimitives.WriteUInt16LittleEndian(lying.AsSpan(12), (ushort)width);
                BinaryPrimitives.WriteUInt16LittleEndian(lying.AsSpan(14), (ushort)height);
                return lying;
        }
    }

    private static int ColourIndex(int x, int y) => (x / 4 + y) % 8;

    /// <summary>Colour <paramref name="index"/> as RGB: bit 0 red, bit 1 green, bit 2 blue.</summary>
    private static byte[] Colour(int index) => [(byte)((index & 1) * 255), (byte)((index >> 1 & 1) * 255), (byte)((index >> 2 & 1) * 255)];

    /// <summary>An RGB colour as BMP and TGA store it: blue, green, red, then a zero (BMP's palette entry is four bytes).</summary>
    private static byte[] Bgr(byte[] rgb) => [rgb[2], rgb[1], rgb[0], 0];

    /// <summary>Channels of 0 or 255 as RGBE: 255 is mantissa 128 at exponent 129 (1.0), black is all zero.</summary>
    private static byte[] Rgbe(byte[] rgb) =>
        rgb.Any(c => c != 0) ? [(byte)(rgb[0] / 255 * 128), (byte)(rgb[1] / 255 * 128), (byte)(rgb[2] / 255 * 128), 129] : [0, 0, 0, 0];

    /// <summary>PackBits (PSD's RLE): 257 - n then a byte for a run of n, 0 then a byte for a single one.</summary>
    private static byte[] PackBits(byte[] row) =>
        Runs(row, 128).SelectMany(run => new[] { (byte)(run.Length > 1 ? 257 - run.Length : 0), row[run.Start] }).ToArray();

    /// <summary>The runs of equal values in <paramref name="values"/>, each at most <paramref name="longest"/> long.</summary>
    private static IEnumerable<(int Start, int Length)> Runs<T>(T[] values, int longest)
    {
        for (int start = 0; start < values.Length;)
        {
            int length = 1;
            while (start + length < values.Length && length < longest && EqualityComparer<T>.Default.Equals(values[start + length], values[start])) length++;
            yield return (start, length);
            start += length;
        }
    }
}
