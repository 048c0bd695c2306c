using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>JPEG and WebP through SkiaSharp: decoded as Pillow decodes them (the fixtures hold Pillow's pixels, see
/// tests/fixtures/images/make.py), refused by name when broken, and encoded to files that decode back to the image.</summary>
public class SkiaImageCodecTests
{
    [Theory]
    [InlineData("q75-422.jpg")]
    [InlineData("q80.webp")]
    [InlineData("rgba-lossless.webp")] // alpha dropped, the colour under transparent pixels kept
    public void DecodesThePixelsPillowDecodes(string file)
    {
        var image = ImageFileReader.Read(Fixtures.File("images", file));
        Assert.Equal((48, 32), (image.Width, image.Height));
        Assert.Equal(File.ReadAllBytes(Fixtures.File("images", file + ".rgb")), image.Pixels);
    }

    [Theory]
    [InlineData("q75-422.jpg", "truncated")]
    [InlineData("q80.webp", "")]
    public void TruncatedFilesAreRefusedByName(string file, string problem)
    {
        var bytes = File.ReadAllBytes(Fixtures.File("images", file));
        var e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(bytes[..(bytes.Length * 2 / 3)], "cut"));
        Assert.StartsWith("cut: not a readable image", e.Message);
        Assert.Contains(problem, e.Message);
        e = Assert.Throws<ImageFileException>(() => ImageFileReader.Decode(bytes[..16], "header"));
        Assert.StartsWith("header: not a readable image", e.Message);
    }

    [Fact]
    public void JpegAndWebpEncodeImagesThatDecodeBackClosely()
    {
        var image = Gradient(64, 48);
        var jpeg = SkiaImageCodec.EncodeJpeg(image, 95);
        var webp = SkiaImageCodec.EncodeWebp(image, 95);
        Assert.Equal(new byte[] { 0xFF, 0xD8, 0xFF }, jpeg[..3]);
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(webp, 0, 4));
        Assert.Equal("WEBP", System.Text.Encoding.ASCII.GetString(webp, 8, 4));
        foreach (var encoded in new[] { jpeg, webp })
        {
            var back = ImageFileReader.Decode(encoded, "encoded");
            Assert.Equal((image.Width, image.Height), (back.Width, back.Height));
            double meanError = image.Pixels.Zip(back.Pixels, (a, b) => Math.Abs(a - b)).Average();
            Assert.True(meanError < 2, $"mean error {meanError}");
        }
    }

    private static RgbImage Gradient(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i += 3)
        {
            int x = i / 3 % width, y = i / 3 / width;
            pixels[i] = (byte)(255 * x / (width - 1));
            pixels[i + 1] = (byte)(255 * y / (height - 1));
            pixels[i + 2] = 128;
        }
        return new RgbImage(width, height, pixels);
    }

    [Fact]
    public void LowerQualityGivesSmallerFiles()
    {
        var image = ImageFileReader.Read(Fixtures.File("images", "q75-422.jpg"));
        Assert.True(SkiaImageCodec.EncodeJpeg(image, 10).Length < SkiaImageCodec.EncodeJpeg(image, 100).Length);
        Assert.True(SkiaImageCodec.EncodeWebp(image, 10).Length < SkiaImageCodec.EncodeWebp(image, 100).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => SkiaImageCodec.EncodeJpeg(image, 101));
    }
}
