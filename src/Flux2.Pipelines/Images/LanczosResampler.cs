namespace Flux2.Pipelines.Images;

/// <summary>
/// Lanczos-3 resizing with antialiasing, computed like Pillow's <c>Image.resize(size, LANCZOS)</c> on 8-bit RGB
/// (the resize diffusers applies to large reference images): separable, horizontal pass first into an 8-bit
/// intermediate, then vertical; the filter is widened by the downscale factor; per-output weights are
/// normalised, then applied as 22-bit fixed point with rounding and clamping to [0, 255].
/// </summary>
public static class LanczosResampler
{
    private const double Support = 3.0;
    private const int PrecisionBits = 32 - 8 - 2;

    public static RgbImage Resize(RgbImage image, int width, int height)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"target size {width}x{height} must be positive");
        if (width == image.Width && height == image.Height) return image;
        var horizontal = Coefficients.For(image.Width, width);
        var vertical = Coefficients.For(image.Height, height);

        // Only the source rows the vertical pass reads go through the horizontal pass.
        int firstRow = vertical.Start[0];
        int lastRow = vertical.Start[height - 1] + vertical.Count[height - 1];
        var source = image;
        if (width != image.Width)
        {
            source = ResampleHorizontal(image, firstRow, lastRow - firstRow, horizontal);
            for (int i = 0; i < height; i++) vertical.Start[i] -= firstRow;
        }
        return height != image.Height ? ResampleVertical(source, height, vertical) : source;
    }

    private static RgbImage ResampleHorizontal(RgbImage input, int firstRow, int rows, Coefficients c)
    {
        int outWidth = c.Start.Length;
        var output = new byte[outWidth * rows * 3];
        for (int y = 0; y < rows; y++)
        {
            int inRow = (firstRow + y) * input.Width * 3;
            for (int x = 0; x < outWidth; x++)
            {
                int start = c.Start[x], count = c.Count[x];
                var k = c.Weights.AsSpan(x * c.Size, count);
                for (int ch = 0; ch < 3; ch++)
                {
                    long sum = 1L << (PrecisionBits - 1);
                    for (int i = 0; i < count; i++) sum += input.Pixels[inRow + (start + i) * 3 + ch] * (long)k[i];
                    output[(y * outWidth + x) * 3 + ch] = Clip8(sum);
                }
            }
        }
        return new RgbImage(outWidth, rows, output);
    }

    private static RgbImage ResampleVertical(RgbImage input, int outHeight, Coefficients c)
    {
        int width = input.Width;
        var output = new byte[width * outHeight * 3];
        for (int y = 0; y < outHeight; y++)
        {
            int start = c.Start[y], count = c.Count[y];
            var k = c.Weights.AsSpan(y * c.Size, count);
            for (int x = 0; x < width * 3; x++)
            {
                long sum = 1L << (PrecisionBits - 1);
                for (int i = 0; i < count; i++) sum += input.Pixels[(start + i) * width * 3 + x] * (long)k[i];
                output[y * width * 3 + x] = Clip8(sum);
            }
        }
        return new RgbImage(width, outHeight, output);
    }

    private static byte Clip8(long sum)
    {
        long v = sum >> PrecisionBits;
        return (byte)Math.Clamp(v, 0, 255);
    }

    private static double Lanczos(double x) => x >= -Support && x < Support ? Sinc(x) * Sinc(x / Support) : 0.0;

    private static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    /// <summary>For each output index: the first input index, how many inputs contribute, and their fixed-point weights
    /// (row <c>i</c> of <see cref="Weights"/> starts at <c>i·Size</c>).</summary>
    private sealed class Coefficients
    {
        public required int[] Start;
        public required int[] Count;
        public required int[] Weights;
        public required int Size;

        public static Coefficients For(int inSize, int outSize)
        {
            double scale = (double)inSize / outSize;
            double filterScale = Math.Max(scale, 1.0);
            double support = Support * filterScale;
            int size = (int)Math.Ceiling(support) * 2 + 1;
            var start = new int[outSize];
            var count = new int[outSize];
            var weights = new int[outSize * size];
            var w = new double[size];
            double inverseFilterScale = 1.0 / filterScale; // Pillow multiplies by the reciprocal; so do we, bit for bit
            for (int o = 0; o < outSize; o++)
            {
                double center = (o + 0.5) * scale;
                int min = Math.Max((int)(center - support + 0.5), 0);
                int max = Math.Min((int)(center + support + 0.5), inSize) - min;
                double total = 0;
                for (int i = 0; i < max; i++)
                {
                    w[i] = Lanczos((i + min - center + 0.5) * inverseFilterScale);
                    total += w[i];
                }
                for (int i = 0; i < max; i++)
                {
                    double normalised = total != 0.0 ? w[i] / total : w[i];
                    weights[o * size + i] = (int)(normalised < 0 ? -0.5 + normalised * (1 << PrecisionBits) : 0.5 + normalised * (1 << PrecisionBits));
                }
                start[o] = min;
                count[o] = max;
            }
            return new Coefficients { Start = start, Count = count, Weights = weights, Size = size };
        }
    }
}
