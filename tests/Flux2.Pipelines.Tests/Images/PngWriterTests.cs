using System.Buffers.Binary;
using System.Text;
using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Images;

public class PngWriterTests
{
    internal static RgbImage Pattern(int width, int height)
    {
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
                for (int c = 0; c < 3; c++)
                    pixels[(y * width + x) * 3 + c] = (byte)((x * 7 + y * 13 + c * 50) ^ ((x * y + c) & 0xFF));
        return new RgbImage(width, height, pixels);
    }

    [Fact]
    public void Crc32OfTheCheckString() =>
        Assert.Equal(0xCBF43926u, Crc32.Compute(Encoding.ASCII.GetBytes("123456789")));

    [Theory]
    [InlineData(1, 1)]
    [InlineData(17, 5)]
    [InlineData(64, 48)]
    public void RoundTripsThroughADecoder(int width, int height)
    {
        var image = Pattern(width, height);
        var decoded = ImageFileReader.Decode(PngWriter.Encode(image, []), "test.png");
        Assert.Equal(width, decoded.Width);
        Assert.Equal(height, decoded.Height);
        Assert.Equal(image.Pixels, decoded.Pixels);
    }

    [Fact]
    public void WritesTextChunksWithValidCrcs()
    {
        var png = PngWriter.Encode(Pattern(8, 8), [new("prompt", "a cat, 100% café"), new("Comment", "猫の写真"), new("seed", "42")]);
        var chunks = ReadChunks(png);
        Assert.Equal("IHDR", chunks[0].Type);
        Assert.Equal("IEND", chunks[^1].Type);
        Assert.Equal("prompt\0a cat, 100% café", Encoding.Latin1.GetString(chunks.Single(c => c.Type == "tEXt" && c.Data[0] == 'p').Data));
        Assert.Equal("seed\042", Encoding.Latin1.GetString(chunks.Single(c => c.Type == "tEXt" && c.Data[0] == 's').Data));
        var itxt = chunks.Single(c => c.Type == "iTXt").Data;
        Assert.Equal("Comment\0\0\0\0\0猫の写真", Encoding.UTF8.GetString(itxt));
    }

    internal static List<(string Type, byte[] Data)> ReadChunks(byte[] png)
    {
        var chunks = new List<(string, byte[])>();
        int pos = 8;
        while (pos < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(pos));
            var type = Encoding.ASCII.GetString(png, pos + 4, 4);
            var data = png.AsSpan(pos + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos + 8 + length));
            Assert.Equal(Crc32.Compute(png.AsSpan(pos + 4, 4 + length)), crc);
            chunks.Add((type, data));
            pos += 12 + length;
        }
        return chunks;
    }
}
