using System.Buffers.Binary;

namespace Flux2.Pipelines.Images;

/// <summary>
/// Valid files that StbImageSharp 2.30.16 decodes to wrong pixels without an error, refused before decoding with a
/// message that says why (they are rare; a converter writes each in a form stb reads).
/// </summary>
internal static class StbMisreads
{
    /// <param name="width">the size the header declares, as <paramref name="height"/> (positive)</param>
    /// <param name="name">names the image in error messages</param>
    public static void Refuse(ReadOnlySpan<byte> file, StbFileFormat format, int width, int height, string name)
    {
        if (format == StbFileFormat.Hdr && height > 1 && width is < 8 or >= 32768)
            // stb reads such widths flat, and its loop over the pixels of a row never starts a second row: the rows
            // after the first are left as the uninitialised memory they were allocated as.
            throw new ImageFileException($"{name}: unsupported HDR: the decoder reads only the first row of an image " +
                $"{width} pixels wide (fewer than 8 or more than 32767)");
        if (format == StbFileFormat.Bmp && BmpGap(file) is > 0 and var gap)
            throw new ImageFileException($"{name}: unsupported BMP: its pixels start {gap} bytes after its header, and the " +
                "decoder would read them from that many bytes further on");
        if (format == StbFileFormat.Psd && IsSixteenBitRle(file))
            throw new ImageFileException($"{name}: unsupported PSD: the decoder reads 16-bit RLE channels as if they were 8-bit");
    }

    /// <summary>The bytes between a BMP's header and its pixels when it has no palette (16 bits a pixel or more), where stb
    /// skips them twice (once to the pixels' offset, then the header-to-offset distance again); 0 otherwise.</summary>
    private static long BmpGap(ReadOnlySpan<byte> file)
    {
        Span<byte> bmp = stackalloc byte[34];
        StbFileFormats.CopyHeader(file, bmp);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(bmp[10..]);
        uint headerSize = BinaryPrimitives.ReadUInt32LittleEndian(bmp[14..]);
        int bitsPerPixel = BinaryPrimitives.ReadUInt16LittleEndian(bmp[(headerSize == 12 ? 24 : 28)..]);
        uint compression = headerSize == 12 ? 0 : BinaryPrimitives.ReadUInt32LittleEndian(bmp[30..]);
        // The 40- and 56-byte headers are followed by three colour masks when the compression says bit fields (3).
        long masks = headerSize is 40 or 56 && compression == 3 ? 12 : 0;
        return bitsPerPixel >= 16 ? offset - (14 + headerSize + masks) : 0;
    }

    /// <summary>Whether a PSD has 16-bit channels and RLE compression, which stb decodes a byte a sample. The compression
    /// field follows three sections, each a 4-byte length then its data.</summary>
    private static bool IsSixteenBitRle(ReadOnlySpan<byte> psd)
    {
        if (psd.Length < 26 || BinaryPrimitives.ReadUInt16BigEndian(psd[22..]) != 16) return false;
        long at = 26;
        for (int section = 0; section < 3; section++)
        {
            if (at < 0 || at + 4 > psd.Length) return false; // stb fails, or finds the file truncated
            at += 4 + (int)BinaryPrimitives.ReadUInt32BigEndian(psd[(int)at..]); // as stb skips it: a signed length
        }
        return at >= 0 && at + 2 <= psd.Length && BinaryPrimitives.ReadUInt16BigEndian(psd[(int)at..]) == 1;
    }
}
