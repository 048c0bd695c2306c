using System.Buffers.Binary;
using System.Text;
using Flux2.Pipelines.Images;
using Flux2.Tests;
using static Flux2.Pipelines.Tests.Images.PngWriterTests;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>Generated images written as PNG, JPEG or WebP: the metadata in each (PNG text chunks, XMP in JPEG and WebP, read
/// back by an independent reader) and the pixels unchanged by it; atomic writes.</summary>
public class ImageEncodingTests
{
    /// <summary>Entries with everything XML must escape or keep: markup characters, quotes, a CR LF pair, a tab, CJK and a
    /// character outside the BMP.</summary>
    private static readonly List<KeyValuePair<string, string>> Metadata =
    [
        new("prompt", "a <red> fox & \"its\" 'den'\r\nline two\ttabbed, 猫 🦊"),
        new("seed", "42"),
        new("Software", "flux2 1.2.3"),
        new("negative_prompt", ""),
    ];

    [Theory]
    [InlineData(ImageFormat.Jpeg)]
    [InlineData(ImageFormat.Webp)]
    public void LossyFilesCarryTheMetadataAsXmpAndTheSamePixels(ImageFormat format)
    {
        var image = Pattern(37, 21);
        var encoding = new ImageEncoding(format, 90);
        var plain = encoding.Encode(image, []);
        var tagged = encoding.Encode(image, Metadata);

        Assert.Equal(Metadata.ToDictionary(), TestImages.XmpText(tagged));
        Assert.Empty(TestImages.XmpText(plain));
        Assert.Equal(ImageFileReader.Decode(plain, "plain").Pixels, ImageFileReader.Decode(tagged, "tagged").Pixels);
    }

    [Fact]
    public void WebpGainsAVp8xHeaderDeclaringItsCanvasAndXmp()
    {
        var webp = new ImageEncoding(ImageFormat.Webp, 80).Encode(Pattern(37, 21), Metadata);
        Assert.Equal(webp.Length - 8, BinaryPrimitives.ReadInt32LittleEndian(webp.AsSpan(4)));
        var chunks = new List<string>();
        for (int pos = 12; pos < webp.Length;)
        {
            int length = BinaryPrimitives.ReadInt32LittleEndian(webp.AsSpan(pos + 4));
            chunks.Add(Encoding.ASCII.GetString(webp, pos, 4));
            pos += 8 + length + length % 2;
            Assert.True(pos <= webp.Length);
        }
        Assert.Equal(["VP8X", "VP8 ", "XMP "], chunks);
        Assert.Equal(0x04, webp[20]); // the XMP flag, and no other
        Assert.Equal((37 - 1, 21 - 1), (webp[24] | webp[25] << 8 | webp[26] << 16, webp[27] | webp[28] << 8 | webp[29] << 16));
    }

    [Fact]
    public void AJpegPacketOverOneSegmentIsSplitAsExtendedXmp()
    {
        // 65 536 characters, each escaped to 5 bytes: about 330 KB of XMP, six extension segments.
        var prompt = new string('&', 65_536);
        var jpeg = new ImageEncoding(ImageFormat.Jpeg, 90).Encode(Pattern(16, 16), [new("prompt", prompt), new("seed", "7")]);

        var segments = TestImages.JpegSegments(jpeg);
        Assert.Equal(0xE0, segments[0].Marker); // JFIF's APP0 stays first
        var app1 = segments.Where(s => s.Marker == 0xE1).ToArray();
        Assert.True(app1.Length >= 6, $"{app1.Length} APP1 segments");
        Assert.All(app1, s => Assert.True(s.Payload.Length <= 65_533));
        Assert.Equal(new Dictionary<string, string> { ["prompt"] = prompt, ["seed"] = "7" }, TestImages.XmpText(jpeg));
        Assert.Equal(16, ImageFileReader.Decode(jpeg, "long").Width);
    }

    [Fact]
    public void CharactersXmlCannotHoldBecomeReplacementCharacters()
    {
        var jpeg = new ImageEncoding(ImageFormat.Jpeg, 90).Encode(Pattern(8, 8), [new("reference_images", "a\u0001b.png, \ud800c.png")]);
        Assert.Equal("a\uFFFDb.png, \uFFFDc.png", TestImages.XmpText(jpeg)["reference_images"]);
        Assert.Equal(-1, XmpPacket.IndexOfUnstorable("tab\t, CR LF\r\n, 🦊"));
        Assert.Equal(3, XmpPacket.IndexOfUnstorable("abc\u0000"));
        Assert.Equal(1, XmpPacket.IndexOfUnstorable("a\udc00\ud800"));
        Assert.Equal(0, XmpPacket.IndexOfUnstorable("\uFFFE"));
    }

    [Theory]
    [InlineData("a.png", ImageFormat.Png)]
    [InlineData("dir.v2/A.JPG", ImageFormat.Jpeg)]
    [InlineData("a.jpeg", ImageFormat.Jpeg)]
    [InlineData("a.WebP", ImageFormat.Webp)]
    [InlineData("a.gif", null)]
    [InlineData("png", null)]
    public void TheFormatComesFromTheExtension(string path, ImageFormat? format) => Assert.Equal(format, ImageEncoding.FormatOf(path));

    [Fact]
    public void QualityOutsideZeroToHundredIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImageEncoding(ImageFormat.Jpeg, 101));

    [Fact]
    public void NeverOverwritesUnlessAskedAndLeavesNoTemporaryFile()
    {
        using var dir = new TempDirectory();
        var path = dir.File("out.png");
        ImageEncoding.Png.Write(path, Pattern(4, 4), [], overwrite: false);
        var first = File.ReadAllBytes(path);
        var e = Assert.Throws<ImageFileException>(() => ImageEncoding.Png.Write(path, Pattern(5, 5), [], overwrite: false));
        Assert.Contains(path, e.Message);
        Assert.Equal(first, File.ReadAllBytes(path));
        ImageEncoding.Png.Write(path, Pattern(5, 5), [], overwrite: true);
        Assert.Equal(5, ImageFileReader.Read(path).Width);
        Assert.Equal(["out.png"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void MissingFolderIsAnImageFileError()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "missing", "out.webp");
        var e = Assert.Throws<ImageFileException>(() => new ImageEncoding(ImageFormat.Webp, 90).Write(path, Pattern(4, 4), Metadata, overwrite: false));
        Assert.Contains(path, e.Message);
    }
}
