using System.Buffers.Binary;
using Flux2.Pipelines.Images;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>Valid files StbImageSharp decodes to wrong pixels without an error are refused, saying why; their neighbours
/// that it decodes right are not.</summary>
public class StbMisreadTests
{
    [Fact]
    public void HdrNarrowerThanEightPixelsIsRefusedUnlessItIsOneRow()
    {
        // stb never starts the second row of such an image: the rest is uninitialised memory.
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(StbImageFiles.Hdr(4, 3, rle: false), "narrow.hdr"));
        Assert.Equal("narrow.hdr: unsupported HDR: the decoder reads only the first row of an image 4 pixels wide (fewer than 8 or more than 32767)", e.Message);
        Assert.Equal(StbImageFiles.Pattern(4, 1).Pixels, ImageFileReader.Decode(StbImageFiles.Hdr(4, 1, rle: false), "row.hdr").Pixels);
    }

    [Fact]
    public void BmpWithAGapBeforeItsPixelsIsRefusedUnlessItHasAPalette()
    {
        // stb skips the gap twice when there is no palette, and reads the pixels 4 bytes late.
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(WithGap(StbImageFiles.Bmp(12, 5, 24), 54), "gap.bmp"));
        Assert.Equal("gap.bmp: unsupported BMP: its pixels start 4 bytes after its header, and the decoder would read them from that many bytes further on", e.Message);
        // With a palette stb reads the gap as more palette entries, then the pixels from their offset.
        var paletted = ImageFileReader.Decode(WithGap(StbImageFiles.Bmp(12, 5, 8), 54 + 8 * 4), "gap8.bmp");
        Assert.Equal(StbImageFiles.Pattern(12, 5).Pixels, paletted.Pixels);
    }

    [Fact]
    public void SixteenBitRlePsdIsRefusedButSixteenBitRawIsRead()
    {
        // stb decodes RLE data a byte a sample, whatever the depth.
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(StbImageFiles.Psd(12, 5, rle: true, bitsPerChannel: 16), "deep.psd"));
        Assert.Equal("deep.psd: unsupported PSD: the decoder reads 16-bit RLE channels as if they were 8-bit", e.Message);
        Assert.Equal(StbImageFiles.Pattern(12, 5).Pixels, ImageFileReader.Decode(StbImageFiles.Psd(12, 5, rle: false, bitsPerChannel: 16), "deep.psd").Pixels);
    }

    /// <summary><paramref name="bmp"/> with 4 zero bytes inserted before its pixels at <paramref name="pixels"/>, and its
    /// pixel offset moved to match.</summary>
    private static byte[] WithGap(byte[] bmp, int pixels)
    {
        byte[] gapped = [.. bmp[..pixels], 0, 0, 0, 0, .. bmp[pixels..]];
        BinaryPrimitives.WriteInt32LittleEndian(gapped.AsSpan(10), pixels + 4);
        return gapped;
    }
}
