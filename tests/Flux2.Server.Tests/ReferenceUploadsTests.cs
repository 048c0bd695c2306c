using Flux2.Pipelines.Images;

namespace Flux2.Server.Tests;

/// <summary>Uploaded references are kept at the size the pipeline encodes, exactly as its own preparation makes them.</summary>
public sealed class ReferenceUploadsTests
{
    private static RgbImage Gradient(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7 % 251);
        return new RgbImage(width, height, pixels);
    }

    [Fact]
    public void ALargeUploadIsKeptAsThePipelinePreparesIt()
    {
        var upload = Gradient(2048, 1536);
        var kept = ReferenceUploads.Decode(PngWriter.Encode(upload, []), "image[0]", "photo.png", "image[0] ('photo.png')", ImageDecodeLimits.Default);

        Assert.Equal("photo.png", kept.Name);
        var prepared = ReferenceImageGeometry.Prepare(upload, "photo.png", ReferenceUploads.Cap.CapPixels(referenceCount: 1));
        Assert.Equal((1168, 880), (kept.Image.Width, kept.Image.Height));
        Assert.Equal(prepared.Pixels, kept.Image.Pixels);
        // The pipeline prepares it again: nothing changes.
        var again = ReferenceImageGeometry.Prepare(kept.Image, "photo.png", ReferenceUploads.Cap.CapPixels(referenceCount: 3));
        Assert.Equal((kept.Image.Width, kept.Image.Height), (again.Width, again.Height));
        Assert.Equal(kept.Image.Pixels, again.Pixels);
    }

    [Fact]
    public void ALargeDecodesMemoryIsCollectedBeforeTheNextDecodeStarts()
    {
        var upload = PngWriter.Encode(new RgbImage(4096, 4096, new byte[4096 * 4096 * 3]), []);
        int collections = GC.CollectionCount(GC.MaxGeneration);
        var kept = ReferenceUploads.Decode(upload, "image[0]", "big.png", "image[0] ('big.png')", ImageDecodeLimits.Default);
        Assert.Equal((1024, 1024), (kept.Image.Width, kept.Image.Height));
        Assert.True(GC.CollectionCount(GC.MaxGeneration) > collections);
    }

    [Fact]
    public void AnUploadThePipelineWouldRefuseIsA400NamingItsField()
    {
        var e = Assert.Throws<RequestException>(() =>
            ReferenceUploads.Decode(PngWriter.Encode(Gradient(40, 300), []), "input[0].content[1].image_url", "x", "input[0].content[1].image_url", ImageDecodeLimits.Default));
        Assert.Equal(400, e.Status);
        Assert.Equal("input[0].content[1].image_url", e.Param);
        Assert.Contains("at least 64 pixels", e.Message);
    }
}
