using Flux2.Pipelines.Images;

namespace Flux2.Pipelines.Tests.Images;

public class ReferenceImageGeometryTests
{
    // Pillow 9.4 Image.resize(size, Image.LANCZOS) of PngWriterTests.Pattern(w, h): CRC-32 and sum of the output bytes.
    [Theory]
    [InlineData(100, 75, 37, 29, 3973647007u, 413850L)]
    [InlineData(50, 40, 83, 61, 2568473115u, 1992626L)]
    [InlineData(90, 64, 45, 64, 1876510224u, 1111055L)]
    [InlineData(64, 90, 64, 33, 2094558327u, 817532L)]
    [InlineData(300, 200, 255, 170, 3041839304u, 16621229L)]
    [InlineData(2400, 1600, 300, 200, 4023521347u, 22998244L)]
    [InlineData(1000, 999, 125, 1000, 1553754925u, 47896979L)]
    public void LanczosMatchesPillow(int w, int h, int outW, int outH, uint crc, long sum) =>
        AssertResized(PngWriterTests.Pattern(w, h), outW, outH, crc, sum);

    // The same of Noise(w, h), whose extremes make the filter overshoot [0, 255] (clamped) on both sides.
    [Theory]
    [InlineData(640, 480, 79, 61, 4245363773u, 1843328L)]
    [InlineData(97, 53, 203, 111, 1998478714u, 8645022L)]
    [InlineData(512, 512, 512, 97, 158718177u, 18991812L)]
    [InlineData(2048, 64, 1024, 8, 3685541545u, 3130617L)]
    public void LanczosMatchesPillowOnNoise(int w, int h, int outW, int outH, uint crc, long sum) =>
        AssertResized(Noise(w, h), outW, outH, crc, sum);

    private static void AssertResized(RgbImage image, int outW, int outH, uint crc, long sum)
    {
        var resized = LanczosResampler.Resize(image, outW, outH);
        Assert.Equal((outW, outH), (resized.Width, resized.Height));
        Assert.Equal(sum, resized.Pixels.Sum(b => (long)b));
        Assert.Equal(crc, Crc32.Compute(resized.Pixels));
    }

    /// <summary>Bytes from the LCG state·1103515245 + 12345 (mod 2³², from 1), each its top 8 bits.</summary>
    private static RgbImage Noise(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        uint state = 1;
        for (int i = 0; i < pixels.Length; i++)
        {
            state = state * 1103515245 + 12345;
            pixels[i] = (byte)(state >> 24);
        }
        return new RgbImage(width, height, pixels);
    }

    [Fact]
    public void SmallImagesAreCenterCroppedNeverResized()
    {
        var image = PngWriterTests.Pattern(100, 70);
        var prepared = ReferenceImageGeometry.Prepare(image, "ref.png", 1024 * 1024);
        Assert.Equal((96, 64), (prepared.Width, prepared.Height));
        // left = (100 - 96) / 2 = 2, top = (70 - 64) / 2 = 3
        Assert.Equal(image.Pixels.AsSpan((3 * 100 + 2) * 3, 96 * 3).ToArray(), prepared.Pixels.AsSpan(0, 96 * 3).ToArray());
    }

    [Fact]
    public void ImagesAboveTheCapAreDownscaledThenCropped()
    {
        // 300x200 = 60000 px > cap 40000: s = sqrt(40000/60000), size (int(244.9), int(163.2)) = (244, 163), crop to 240x160.
        var image = PngWriterTests.Pattern(300, 200);
        var prepared = ReferenceImageGeometry.Prepare(image, "ref.png", 40000);
        Assert.Equal((240, 160), (prepared.Width, prepared.Height));
        var resized = LanczosResampler.Resize(image, 244, 163);
        Assert.Equal(resized.Crop(2, 1, 240, 160).Pixels, prepared.Pixels);
    }

    [Theory]
    [InlineData(63, 100)]
    [InlineData(100, 63)]
    [InlineData(64, 513)]
    [InlineData(600, 64 + 10)]
    public void RejectsTinyOrExtremeImages(int w, int h)
    {
        var e = Assert.Throws<ImageFileException>(() => ReferenceImageGeometry.Prepare(PngWriterTests.Pattern(w, h), "ref.png", 1024 * 1024));
        Assert.Contains("ref.png", e.Message);
    }

    [Fact]
    public void AspectRatioOfExactlyEightIsAccepted()
    {
        var prepared = ReferenceImageGeometry.Prepare(PngWriterTests.Pattern(512, 64), "ref.png", 1024 * 1024);
        Assert.Equal((512, 64), (prepared.Width, prepared.Height));
    }

    [Fact]
    public void BflPolicyAllowsALargerSingleReference()
    {
        Assert.Equal(1024L * 1024, ReferenceCapPolicy.Diffusers.CapPixels(1));
        Assert.Equal(2024L * 2024, ReferenceCapPolicy.Bfl.CapPixels(1));
        Assert.Equal(1024L * 1024, ReferenceCapPolicy.Bfl.CapPixels(2));
    }
}
