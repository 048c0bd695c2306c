using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>Input images under hostile or broken input: declared sizes are checked before decoding, PNG chunks before stb
/// sees them, and only regular files are read.</summary>
public class ImageDecodeSafetyTests
{
    private static byte[] SmallPng() => PngWriter.Encode(PngWriterTests.Pattern(32, 32), []);

    [Fact]
    public void PngDeclaringTwentyThousandSquaredIsRefusedBeforeDecoding()
    {
        // 1-bit grey, all zero: about 50 KB on disk, 400 megapixels (1.2 GB as RGB) decoded.
        var bomb = TestImages.Png(20000, 20000, colorType: 0, bitDepth: 1, _ => new byte[2500]);
        Assert.True(bomb.Length < 200_000, $"{bomb.Length} bytes");
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(bomb, "bomb.png"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "decoded before refusing");
        Assert.Equal("bomb.png: the image declares 20000x20000 = 400000000 pixels, more than the 67108864-pixel limit for input images", e.Message);
    }

    [Theory]
    [InlineData("huge.jpg", 60000, 50000)]
    [InlineData("huge.webp", 16383, 16383)]
    public void JpegAndWebpDeclaringAHugeSizeAreRefusedBeforeDecoding(string name, int width, int height)
    {
        // Complete small files (a few hundred bytes) whose headers ask for gigabytes of pixels.
        var bomb = name.EndsWith(".jpg") ? TestImages.JpegDeclaring(width, height) : TestImages.WebpDeclaring(width, height);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(bomb, name));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "decoded before refusing");
        Assert.Equal($"{name}: the image declares {width}x{height} = {(long)width * height} pixels, more than the 67108864-pixel limit for input images", e.Message);
    }

    [Fact]
    public void LimitsAreConfigurable()
    {
        var png = SmallPng();
        Assert.Contains("32x32 = 1024 pixels, more than the 1000-pixel limit",
            Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(png, "a.png", new ImageDecodeLimits { MaxPixels = 1000 })).Message);
        Assert.Contains($"{png.Length} bytes, more than the 100-byte limit",
            Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(png, "a.png", new ImageDecodeLimits { MaxFileBytes = 100 })).Message);
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("a.png"), png);
        Assert.Contains($"is {png.Length} bytes, more than the 100-byte limit",
            Assert.Throws<ImageFileException>(() => ImageFileReader.Read(dir.File("a.png"), new ImageDecodeLimits { MaxFileBytes = 100 })).Message);
        Assert.Equal(32, ImageFileReader.Decode(png, "a.png", new ImageDecodeLimits { MaxPixels = 1024 }).Width);
    }

    [Fact]
    public void TruncatedPngSaysWhereItEnds()
    {
        var png = SmallPng();
        int idat = TestImages.ChunkOffset(png, "IDAT");
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(png[..(idat + 20)], "cut.png"));
        Assert.StartsWith($"cut.png: truncated PNG: chunk 'IDAT' at byte {idat} declares ", e.Message);
        Assert.EndsWith($"but the file ends at byte {idat + 20}", e.Message);
        e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(png[..^12], "no-end.png"));
        Assert.Equal($"no-end.png: truncated PNG: the file ends at byte {png.Length - 12} without an IEND chunk", e.Message);
    }

    [Fact]
    public void PngWithABadCrcIsRefused()
    {
        // A wrong CRC stored after intact data: stb alone would decode this file without a word.
        var png = SmallPng();
        int iend = TestImages.ChunkOffset(png, "IEND");
        png[iend + 8] ^= 0x01;
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(png, "bad-crc.png"));
        Assert.Equal($"bad-crc.png: corrupt PNG: chunk 'IEND' at byte {iend} has CRC 0xAF426082, but its data gives 0xAE426082", e.Message);

        png = SmallPng();
        int idat = TestImages.ChunkOffset(png, "IDAT");
        png[idat + 8 + 5] ^= 0x01; // one bit of compressed data
        e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(png, "flipped.png"));
        Assert.Contains($"flipped.png: corrupt PNG: chunk 'IDAT' at byte {idat} has CRC 0x", e.Message);
    }

    [Fact]
    public void AlphaIsDroppedAsPilConvertRgbDropsIt()
    {
        // RGBA: a fully transparent pixel keeps its stored colour (not white), a half-transparent one too.
        var rgba = TestImages.Png(2, 1, colorType: 6, bitDepth: 8, _ => [10, 20, 30, 0, 200, 100, 50, 128]);
        Assert.Equal(new byte[] { 10, 20, 30, 200, 100, 50 }, ImageFileReader.Decode(rgba, "rgba.png").Pixels);
        // Grey + alpha: the grey level is replicated, the alpha ignored.
        var greyAlpha = TestImages.Png(1, 1, colorType: 4, bitDepth: 8, _ => [77, 0]);
        Assert.Equal(new byte[] { 77, 77, 77 }, ImageFileReader.Decode(greyAlpha, "la.png").Pixels);
    }

    /// <summary>A 4×2 GIF written by Pillow 9.4 with palette index 3 transparent: PIL's convert("RGB") gives those pixels
    /// their palette colour, (10, 20, 30); stb alone gave them black.</summary>
    [Fact]
    public void AGifsTransparentColourIsItsPaletteColourAsInPil()
    {
        var gif = Convert.FromHexString("47494638396104000200810000ff000000ff000000ff0a141e21f90401000003002c000000000400020000080c000104103060808000000202003b");
        var original = gif.ToArray();
        Assert.Equal(new byte[] { 255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 10, 20, 30, 0, 0, 255, 0, 255, 0, 255, 0, 0 },
            ImageFileReader.Decode(gif, "transparent.gif").Pixels);
        Assert.Equal(original, gif); // the caller's bytes are left as they were
    }

    [Fact]
    public void SpecialFilesAreRefusedWithoutBlocking()
    {
        using var dir = new TempDirectory();
        var fifo = SpecialFiles.Fifo(dir.File("input.png"));
        SpecialFiles.FinishesPromptly(fifo, () =>
            Assert.Equal($"{fifo}: is a FIFO (named pipe), not a regular file", Assert.Throws<ImageFileException>(() => ImageFileReader.Read(fifo)).Message));
        Assert.Equal("/dev/zero: is a character device, not a regular file",
            Assert.Throws<ImageFileException>(() => ImageFileReader.Read("/dev/zero")).Message);
    }
}
