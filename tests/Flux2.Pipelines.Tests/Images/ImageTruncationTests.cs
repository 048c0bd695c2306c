using Flux2.Pipelines.Images;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>The formats decoded through StbImageSharp, which reads the missing bytes of a truncated file as zeros: a file
/// cut short is refused, naming it and its format, and a tiny file declaring a huge size is refused before decoding.</summary>
public class ImageTruncationTests
{
    private const int Width = 12, Height = 5;

    /// <summary>Each variant by a file name: the extension names the format.</summary>
    public static TheoryData<string> Variants =>
        ["24-bit.bmp", "8-bit.bmp", "32-bit.bmp", "lzw.gif", "raw.tga", "rle.tga", "raw.psd", "rle.psd", "flat.hdr", "rle.hdr"];

    /// <summary>The compressed variants, whose least possible size is far below their real one: cut inside their last
    /// bytes, they pass the size check and it is the decoder that runs out of data.</summary>
    public static TheoryData<string> CompressedVariants => ["lzw.gif", "rle.tga", "rle.psd", "rle.hdr"];

    private static byte[] File(string variant) => variant switch
    {
        "24-bit.bmp" => StbImageFiles.Bmp(Width, Height, 24),
        "8-bit.bmp" => StbImageFiles.Bmp(Width, Height, 8),
        "32-bit.bmp" => StbImageFiles.Bmp(Width, Height, 32),
        "lzw.gif" => StbImageFiles.Gif(Width, Height),
        "raw.tga" or "rle.tga" => StbImageFiles.Tga(Width, Height, rle: variant == "rle.tga"),
        "raw.psd" or "rle.psd" => StbImageFiles.Psd(Width, Height, rle: variant == "rle.psd"),
        "flat.hdr" or "rle.hdr" => StbImageFiles.Hdr(Width, Height, rle: variant == "rle.hdr"),
        _ => throw new ArgumentOutOfRangeException(nameof(variant), variant, null),
    };

    private static string Format(string variant) => Path.GetExtension(variant)[1..].ToUpperInvariant();

    [Theory]
    [MemberData(nameof(Variants))]
    public void CompleteFileDecodesToItsPixels(string variant)
    {
        var image = ImageFileReader.Decode(File(variant), variant);
        Assert.Equal((Width, Height), (image.Width, image.Height));
        Assert.Equal(StbImageFiles.Pattern(Width, Height).Pixels, image.Pixels);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void FileCutShortIsRefusedAsTruncated(string variant)
    {
        var file = File(variant);
        // In the middle, three quarters in, and inside the last pixels (GIF: its last LZW byte, before the two closing bytes).
        foreach (int cut in (int[])[file.Length / 2, file.Length * 3 / 4, file.Length - 3])
        {
            var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(file[..cut], variant));
            Assert.StartsWith($"{variant}: truncated {Format(variant)}: ", e.Message);
        }
    }

    [Theory]
    [MemberData(nameof(CompressedVariants))]
    public void DecoderReadingPastTheEndIsCaught(string variant)
    {
        var file = File(variant);
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(file[..^3], variant));
        Assert.Equal($"{variant}: truncated {Format(variant)}: the file ends before its image data does", e.Message);
    }

    /// <summary>LZW data that ends before the image is full, at its end code or at its empty sub-block: Pillow 9.4 refuses
    /// such a GIF ("image file is truncated"); stb would fill the missing pixels with the background.</summary>
    [Theory]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(Width * Height - 1, true)]
    [InlineData(24, false)] // 28 codes of 4 bits: no padding bits left to read as one more code
    public void GifWhoseDataEndsBeforeTheImageIsFullIsRefused(int codedPixels, bool endCode)
    {
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(StbImageFiles.Gif(Width, Height, codedPixels, endCode), "short.gif"));
        Assert.Equal($"short.gif: truncated GIF: its image data ends after {codedPixels} of its {Width}x{Height} pixels", e.Message);
    }

    [Theory]
    [InlineData(Width * Height, false)]
    [InlineData(Width * Height + 7, true)]
    public void GifWhoseDataFillsTheImageDecodes(int codedPixels, bool endCode)
    {
        var image = ImageFileReader.Decode(StbImageFiles.Gif(Width, Height, codedPixels, endCode), "full.gif");
        Assert.Equal(StbImageFiles.Pattern(Width, Height).Pixels, image.Pixels);
    }

    [Theory]
    // Uncompressed rows after the header (and palette) at the pixels' offset; rows of 8192 pixels need no padding.
    [InlineData("24-bit.bmp", 54 + 8192L * 8192 * 3)]
    [InlineData("8-bit.bmp", 54 + 8 * 4 + 8192L * 8192)]
    [InlineData("32-bit.bmp", 54 + 8192L * 8192 * 4)]
    // Screen, 8-colour table, image descriptor and code size byte, then at most 4096 pixels per 12-bit LZW code.
    [InlineData("lzw.gif", 13 + 24 + 10 + 1 + 8192L * 8192 * 12 / (8 * 4096))]
    // The 18-byte header, then 3-byte pixels raw, or RLE packets of 128 pixels, each a count byte and one pixel.
    [InlineData("raw.tga", 18 + 8192L * 8192 * 3)]
    [InlineData("rle.tga", 18 + 8192L * 8192 / 128 * 4)]
    // Both PSDs by PackBits (the compression field lies past variable-length sections): 2-byte lengths of 8192 rows of
    // 3 channels, then per channel 2 bytes for each 128.
    [InlineData("raw.psd", 2 * 8192 * 3 + 3 * 8192L * 8192 / 128 * 2)]
    [InlineData("rle.psd", 2 * 8192 * 3 + 3 * 8192L * 8192 / 128 * 2)]
    // The 51-byte text header; then, as a width of 8192 may be RLE whatever the file holds, per scanline 4 bytes and per
    // component 65 runs of 127 at most.
    [InlineData("flat.hdr", 51 + 8192 * (4 + 4 * 65 * 2))]
    [InlineData("rle.hdr", 51 + 8192 * (4 + 4 * 65 * 2))]
    public void TinyFileDeclaringAHugeSizeIsRefusedBeforeDecoding(string variant, long leastBytes)
    {
        // The small file with its header changed to declare 8192x8192: stb would spend seconds decoding zeros.
        var bomb = StbImageFiles.Declaring(File(variant), 8192, 8192);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(bomb, variant));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "decoded before refusing");
        Assert.Equal($"{variant}: truncated {Format(variant)}: a 8192x8192 image needs at least {leastBytes} bytes, but the file has {bomb.Length}", e.Message);
    }
}
