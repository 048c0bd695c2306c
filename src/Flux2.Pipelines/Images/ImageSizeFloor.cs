using System.Buffers.Binary;

namespace Flux2.Pipelines.Images;

/// <summary>
/// The fewest bytes a file can have and still hold the image its header declares, by the best compression its format
/// (as stb reads it) allows: a file smaller than that is truncated. Checked before decoding, since stb decodes a tiny file
/// declaring 8192×8192 through every missing pixel (seconds of CPU) before anything could tell it was truncated.
/// A lower bound, never more than a valid file has.
/// </summary>
internal static class ImageSizeFloor
{
    /// <param name="width">the width the header declares, as <paramref name="height"/> the height (positive)</param>
    public static long MinimumFileBytes(ReadOnlySpan<byte> file, StbFileFormat format, int width, int height)
    {
        Span<byte> header = stackalloc byte[32];
        StbFileFormats.CopyHeader(file, header);
        return format switch
        {
            StbFileFormat.Bmp => Bmp(header, width, height),
            StbFileFormat.Tga => Tga(header, width, height),
            StbFileFormat.Psd => Psd(header, width, height),
            StbFileFormat.Hdr => Hdr(file, width, height),
            StbFileFormat.Gif => Gif(file),
            _ => 0, // PNG: PngChunks has checked that every chunk is complete
        };
    }

    /// <summary>Uncompressed rows from the pixel data's offset (stb refuses BMP's RLE), each padded to 4 bytes but the
    /// last, whose padding stb skips without reading.</summary>
    private static long Bmp(ReadOnlySpan<byte> header, long width, long height)
    {
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(header[10..]);
        bool os2 = BinaryPrimitives.ReadUInt32LittleEndian(header[14..]) == 12; // the 12-byte header has 16-bit sizes
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(header[(os2 ? 24 : 28)..]);
        long rowBytes = (width * bitsPerPixel + 7) / 8, stride = (rowBytes + 3) / 4 * 4;
        return offset + stride * (height - 1) + rowBytes;
    }

    /// <summary>The 18-byte header, then raw pixels, or RLE packets of at most 128 pixels each taking a count byte and
    /// one pixel. stb reads an indexed pixel as 1 byte at 8 bits, else 2.</summary>
    private static long Tga(ReadOnlySpan<byte> header, long width, long height)
    {
        bool indexed = header[1] != 0, rle = header[2] >= 8;
        int bitsPerPixel = header[16];
        long pixelBytes = indexed ? (bitsPerPixel == 8 ? 1 : 2) : (bitsPerPixel + 7) / 8, pixels = width * height;
        return 18 + (rle ? CeilingDivide(pixels, 128) * (1 + pixelBytes) : pixels * pixelBytes);
    }

    /// <summary>Planar channels, of which stb reads at most four: raw, or PackBits (at most 128 bytes from 2) after the
    /// table of each row's length (2 bytes per row per channel). The smaller of the two, header left out: stb skips the
    /// header's three sections by signed lengths, so a file can make it shorter than it looks, or the compression field
    /// say anything.</summary>
    private static long Psd(ReadOnlySpan<byte> header, long width, long height)
    {
        int channels = BinaryPrimitives.ReadUInt16BigEndian(header[12..]), depth = BinaryPrimitives.ReadUInt16BigEndian(header[22..]);
        long pixels = width * height, decoded = Math.Min(channels, 4);
        long raw = decoded * pixels * (depth / 8);
        long packBits = 2 * height * channels + decoded * 2 * CeilingDivide(pixels, 128);
        return Math.Min(raw, packBits);
    }

    /// <summary>The text header: lines up to an empty one, then the resolution line, whose end a file cut inside it lacks
    /// (stb would read a shorter number). Then the scanlines, which stb reads as RLE only at widths from 8 to 32767:
    /// 4 bytes of scanline header, then each of the four components in runs of at most 127 bytes taking 2 bytes each.
    /// Other widths are flat, 4 bytes a pixel.</summary>
    private static long Hdr(ReadOnlySpan<byte> file, long width, long height)
    {
        int blank = file.IndexOf("\n\n"u8), resolution = blank < 0 ? -1 : file[(blank + 2)..].IndexOf((byte)'\n');
        long header = resolution < 0 ? file.Length + 1 : blank + 2 + resolution + 1;
        return header + (width is >= 8 and < 32768 ? height * (4 + 4 * 2 * CeilingDivide(width, 127)) : 4 * width * height);
    }

    /// <summary>stb decodes the first image, which may be smaller than the screen: the blocks up to its descriptor, its
    /// descriptor and colour table, then LZW data. An LZW code yields at most 4096 pixels, and one of b bits at most 2^b,
    /// so no code yields more than 4096/12 pixels a bit: a byte yields at most 4096·8/12.</summary>
    private static long Gif(ReadOnlySpan<byte> file) =>
        GifLayout.FirstImage(file) is var (width, height, data)
            ? data + 1 + CeilingDivide((long)width * height * 12, 4096 * 8) // the LZW minimum code size, then the codes
            : GifLayout.BlocksBeforeFirstImage(file).Next + 10 + 1; // no descriptor yet: it and the code size are missing

    private static long CeilingDivide(long value, long divisor) => (value + divisor - 1) / divisor;
}
