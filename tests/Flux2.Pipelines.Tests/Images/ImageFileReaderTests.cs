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
}
