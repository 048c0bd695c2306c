using System.Text;
using Flux2.Pipelines.Images;

namespace Flux2.Server.Tests;

/// <summary>What the server's image bytes are, by their magic numbers, and how far two images are apart.</summary>
public static class ImageFormats
{
    /// <summary>png, jpeg or webp by the file's first bytes; "unknown" otherwise.</summary>
    public static string Of(byte[] bytes) =>
        bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[137, 80, 78, 71, 13, 10, 26, 10]) ? "png"
        : bytes.AsSpan().StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "jpeg"
        : bytes.Length >= 12 && Encoding.ASCII.GetString(bytes, 0, 4) == "RIFF" && Encoding.ASCII.GetString(bytes, 8, 4) == "WEBP" ? "webp"
        : "unknown";

    /// <summary>Mean absolute difference of the 8×8 block averages of two same-sized images, per channel: what lossy
    /// codecs keep (each block's mean) even for the noise-like images of the tiny test model, whose pixel-wise error is
    /// large at any quality.</summary>
    public static double BlockMeanDifference(RgbImage a, RgbImage b)
    {
        Assert.Equal((a.Width, a.Height), (b.Width, b.Height));
        double total = 0;
        int blocks = 0;
        for (int by = 0; by + 8 <= a.Height; by += 8)
            for (int bx = 0; bx + 8 <= a.Width; bx += 8)
                for (int c = 0; c < 3; c++)
                {
                    double sum = 0;
                    for (int y = by; y < by + 8; y++)
                        for (int x = bx; x < bx + 8; x++)
                            sum += a.Pixels[(y * a.Width + x) * 3 + c] - b.Pixels[(y * a.Width + x) * 3 + c];
                    total += Math.Abs(sum / 64);
                    blocks++;
                }
        return total / blocks;
    }
}
