using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flux2.Pipelines.Images;

/// <summary>
/// Lanczos-3 resizing with antialiasing, computed like Pillow's <c>Image.resize(size, LANCZOS)</c> on 8-bit RGB
/// (the resize diffusers applies to large reference images): separable, horizontal pass first into an 8-bit
/// intermediate, then vertical; the filter is widened by the downscale factor; per-output weights are
/// normalised, then applied as 22-bit fixed point in 32-bit sums with rounding and clamping to [0, 255].
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

    /// <summary>Each output pixel's taps as 8-lane products: the source row's bytes (R, G, B interleaved) times weights laid
    /// out per byte, the taps padded with zero weights to a multiple of 8 pixels, so 24 bytes (three vectors) per 8 taps;
    /// byte e of a group belongs to channel e mod 3. Integer sums do not depend on their order, so this gives Pillow's bytes.</summary>
    private static unsafe RgbImage ResampleHorizontal(RgbImage input, int firstRow, int rows, Coefficients c)
    {
        int outWidth = c.Start.Length, inWidth = input.Width;
        int taps = (c.Size + 7) / 8 * 8;
        var weights = new int[outWidth * taps * 3];
        for (int x = 0; x < outWidth; x++)
            for (int i = 0; i < c.Count[x]; i++)
                for (int ch = 0; ch < 3; ch++)
                    weights[(x * taps + i) * 3 + ch] = c.Weights[x * c.Size + i];
        // A source row with room for the padded taps of the last outputs, which read zeros there.
        var row = new byte[(inWidth + taps) * 3];
        var output = new byte[outWidth * rows * 3];
        var lanes = stackalloc int[24];
        fixed (byte* source = input.Pixels, padded = row, o = output)
        fixed (int* k = weights)
        {
            for (int y = 0; y < rows; y++)
            {
                new ReadOnlySpan<byte>(source + (long)(firstRow + y) * inWidth * 3, inWidth * 3).CopyTo(row);
                byte* outRow = o + (long)y * outWidth * 3;
                for (int x = 0; x < outWidth; x++)
                {
                    byte* p = padded + c.Start[x] * 3;
                    int* w = k + x * taps * 3;
                    Vector256<int> a0 = default, a1 = default, a2 = default;
                    for (int j = 0; j < taps * 3; j += 24)
                    {
                        a0 += Widen(p + j) * Vector256.Load(w + j);
                        a1 += Widen(p + j + 8) * Vector256.Load(w + j + 8);
                        a2 += Widen(p + j + 16) * Vector256.Load(w + j + 16);
                    }
                    a0.Store(lanes);
                    a1.Store(lanes + 8);
                    a2.Store(lanes + 16);
                    for (int ch = 0; ch < 3; ch++)
                    {
                        int sum = Half;
                        for (int e = ch; e < 24; e += 3) sum += lanes[e];
                        outRow[x * 3 + ch] = Clip8(sum);
                    }
                }
            }
        }
        return new RgbImage(outWidth, rows, output);
    }

    /// <summary>Eight output bytes at a time: every byte of a row is filtered alike, channels included.</summary>
    private static unsafe RgbImage ResampleVertical(RgbImage input, int outHeight, Coefficients c)
    {
        int stride = input.Width * 3;
        var output = new byte[stride * outHeight];
        var lanes = stackalloc int[8];
        fixed (byte* source = input.Pixels, o = output)
        fixed (int* k = c.Weights)
        {
            for (int y = 0; y < outHeight; y++)
            {
                int count = c.Count[y];
                byte* first = source + (long)c.Start[y] * stride;
                int* w = k + y * c.Size;
                byte* outRow = o + (long)y * stride;
                int x = 0;
                for (; x + 8 <= stride; x += 8)
                {
                    var sum = Vector256.Create(Half);
                    for (int i = 0; i < count; i++) sum += Widen(first + (long)i * stride + x) * Vector256.Create(w[i]);
                    sum.Store(lanes);
                    for (int e = 0; e < 8; e++) outRow[x + e] = Clip8(lanes[e]);
                }
                for (; x < stride; x++)
                {
                    int sum = Half;
                    for (int i = 0; i < count; i++) sum += first[(long)i * stride + x] * w[i];
                    outRow[x] = Clip8(sum);
                }
            }
        }
        return new RgbImage(input.Width, outHeight, output);
    }

    /// <summary>Eight bytes as 32-bit lanes.</summary>
    private static unsafe Vector256<int> Widen(byte* p) =>
        Avx2.IsSupported ? Avx2.ConvertToVector256Int32(p) : Vector256.Create(p[0], p[1], p[2], p[3], p[4], p[5], p[6], (int)p[7]);

    /// <summary>Rounding: half of the last fixed-point unit, added to every sum.</summary>
    private const int Half = 1 << (PrecisionBits - 1);

    /// <summary>A sum as Pillow keeps it, in a 32-bit int (the two spare bits of <see cref="PrecisionBits"/> keep the
    /// filter's overshoot from overflowing it), to a byte.</summary>
    private static byte Clip8(int sum) => (byte)Math.Clamp(sum >> PrecisionBits, 0, 255);

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
