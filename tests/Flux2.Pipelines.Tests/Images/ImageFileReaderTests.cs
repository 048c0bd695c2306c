using System.Buffers.Binary;
using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Images;

public class ImageFileReaderTests
{
    [Fact]
    public void NonImageFileIsAClearError()
    {
        using var dir = new TempDirectory();
        var path = dir.File("notes.txt");
        File.WriteAllText(path, "not an image");
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TruncatedPngIsAClearError()
    {
        using var dir = new TempDirectory();
        var path = dir.File("cut.png");
        var png = PngWriter.Encode(PngWriterTests.Pattern(32, 32), []);
        File.WriteAllBytes(path, png[..40]);
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Read(path));
        Assert.Contains(path, e.Message);
        Assert.DoesNotContain(e.Message, char.IsControl);
    }

    [Fact]
    public void DirectoryIsNamedAsSuch()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Read(dir.Path));
        Assert.Contains("is a directory", e.Message);
    }

    [Fact]
    public void MissingFileIsAClearError()
    {
        using var dir = new TempDirectory();
        var path = dir.File("absent.png");
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Read(path));
        Assert.Contains(path, e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsBmp(bool topDown)
    {
        // A 2x2 24-bit BMP: BGR, each row padded to 4 bytes; rows bottom-up, or top-down as a negative height says.
        byte[] bottomRow = [3, 2, 1, 6, 5, 4, 0, 0], topRow = [9, 8, 7, 12, 11, 10, 0, 0]; // (1,2,3), (4,5,6); (7,8,9), (10,11,12)
        byte[] bmp =
        [
            (byte)'B', (byte)'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,
            40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 16, 0, 0, 0,
            0x13, 0x0B, 0, 0, 0x13, 0x0B, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            .. topDown ? topRow : bottomRow,
            .. topDown ? bottomRow : topRow,
        ];
        if (topDown) BinaryPrimitives.WriteInt32LittleEndian(bmp.AsSpan(22), -2);
        var image = ImageFileReader.Decode(bmp, "tiny.bmp");
        Assert.Equal(2, image.Width);
        Assert.Equal(2, image.Height);
        Assert.Equal(new byte[] { 7, 8, 9, 10, 11, 12, 1, 2, 3, 4, 5, 6 }, image.Pixels);
    }

    /// <summary>Small files written by Pillow 9.4 (a 5×3 image of 15 colours; the GIF reduced to an 8-colour palette) decode
    /// to the pixels Pillow's <c>Image.open(f).convert("RGB")</c> gives, as the reference pipelines read them.</summary>
    [Theory]
    [InlineData("bmp24.bmp", "424d660000000000000036000000280000000500000003000000010018000000000030000000c40e0000c40e00000000000000000000fed7f41d38263c99585bfa8a7a5bbc0063f2fa82532ca1b45ec01590df76c200c80d00e76e3206cf642530964491c800", "000dc8326ee764cf06963025c89144faf2632c53825eb4a19015c0c276dff4d7fe26381d58993c8afa5bbc5b7a")]
    [InlineData("bmp32.bmp", "424d72000000000000003600000028000000050000000300000001002000000000003c000000c40e0000c40e00000000000000000000fed7f4ff1d3826ff3c9958ff5bfa8aff7a5bbcff63f2faff82532cffa1b45effc01590ffdf76c2ffc80d00ffe76e32ff06cf64ff253096ff4491c8ff", "000dc8326ee764cf06963025c89144faf2632c53825eb4a19015c0c276dff4d7fe26381d58993c8afa5bbc5b7a")]
    [InlineData("raw.tga", "000002000000000000000000050003001800fed7f41d38263c99585bfa8a7a5bbc63f2fa82532ca1b45ec01590df76c2c80d00e76e3206cf642530964491c8000000000000000054525545564953494f4e2d5846494c452e00", "000dc8326ee764cf06963025c89144faf2632c53825eb4a19015c0c276dff4d7fe26381d58993c8afa5bbc5b7a")]
    [InlineData("rle.tga", "00000a00000000000000000005000300180004fed7f41d38263c99585bfa8a7a5bbc0463f2fa82532ca1b45ec01590df76c204c80d00e76e3206cf642530964491c8000000000000000054525545564953494f4e2d5846494c452e00", "000dc8326ee764cf06963025c89144faf2632c53825eb4a19015c0c276dff4d7fe26381d58993c8afa5bbc5b7a")]
    [InlineData("palette.gif", "47494638376105000300820000f7e5b18afa5b61c254c5849258993c5e5fa126381d621b8f2c0000000005000300000812000f14206060008002020e18344020c08080003b", "621b8f5e5fa158993c26381dc58492f7e5b15e5fa161c254621b8fc58492f7e5b126381d58993c8afa5bc58492")]
    public void DecodesAsPillowDoes(string name, string file, string pillowRgb)
    {
        var image = ImageFileReader.Decode(Convert.FromHexString(file), name);
        Assert.Equal((5, 3), (image.Width, image.Height));
        Assert.Equal(Convert.FromHexString(pillowRgb), image.Pixels);
    }

    /// <summary>GIFs of noise written by Pillow 9.4 (tests/fixtures/images/make.py): their LZW codes grow to 12 bits and
    /// the code table is cleared when full, all of which the check for data that ends early follows.</summary>
    [Theory]
    [InlineData("noise-256.gif")]
    [InlineData("noise-16.gif")]
    [InlineData("noise-2.gif")]
    public void PillowGifsOfNoiseDecodeAsPillowDoes(string file)
    {
        var image = ImageFileReader.Read(Fixtures.File("images", file));
        Assert.Equal((61, 67), (image.Width, image.Height));
        Assert.Equal(File.ReadAllBytes(Fixtures.File("images", file + ".rgb")), image.Pixels);
    }
}
