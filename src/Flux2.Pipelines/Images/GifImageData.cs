namespace Flux2.Pipelines.Images;

/// <summary>
/// How many pixels the LZW data of a GIF's first image (the frame stb decodes) holds, counted without decoding them: only
/// the length of each code's string is kept. Data that ends, by its end code or its empty sub-block, before the image is
/// full makes a truncated file to Pillow, which refuses it; stb would leave the missing pixels as background.
/// </summary>
internal static class GifImageData
{
    private const int MaxCodeBits = 12, TableSize = 1 << MaxCodeBits;

    /// <exception cref="ImageFileException">the first image's data ends before the image is full</exception>
    public static void RefuseShort(ReadOnlySpan<byte> file, string name)
    {
        if (FirstImage(file) is { } image && image.Pixels < (long)image.Width * image.Height)
            throw new ImageFileException($"{name}: truncated GIF: its image data ends after {image.Pixels} of its " +
                $"{image.Width}x{image.Height} pixels");
    }

    /// <summary>The pixels the first image's data yields before it ends (counting stops once the image is full), and the
    /// image's size; null when the file ends inside the data or the data is malformed, which the decoder reports itself.</summary>
    public static (long Pixels, int Width, int Height)? FirstImage(ReadOnlySpan<byte> file)
    {
        if (GifLayout.FirstImage(file) is not var (width, height, at)) return null;
        if (at >= file.Length || file[(int)at] is < 1 or >= MaxCodeBits) return null;
        int minimum = file[(int)at++];
        long full = (long)width * height, pixels = 0;

        int clear = 1 << minimum, end = clear + 1;
        int bitsPerCode = minimum + 1, next = clear + 2, previous = -1;
        Span<ushort> lengths = stackalloc ushort[TableSize]; // each code's string length
        lengths[..clear].Fill(1);
        uint buffer = 0;
        int buffered = 0;
        while (at < file.Length)
        {
            int block = file[(int)at++];
            if (block == 0) return (pixels, width, height);
            if (at + block > file.Length) return null;
            foreach (byte b in file.Slice((int)at, block))
            {
                buffer |= (uint)b << buffered;
                buffered += 8;
                while (buffered >= bitsPerCode)
                {
                    int code = (int)(buffer & ((1u << bitsPerCode) - 1));
                    buffer >>= bitsPerCode;
                    buffered -= bitsPerCode;
                    if (code == clear)
                    {
                        (bitsPerCode, next, previous) = (minimum + 1, clear + 2, -1);
                        continue;
                    }
                    if (code == end) return (pixels, width, height);
                    int length;
                    if (previous < 0)
                    {
                        if (code > clear) return null;
                        length = 1;
                    }
                    else
                    {
                        int grown = lengths[previous] + 1;
                        if (code > next || (code == next && next == TableSize)) return null;
                        length = code == next ? grown : lengths[code];
                        if (next < TableSize)
                        {
                            lengths[next++] = (ushort)grown;
                            if (next == 1 << bitsPerCode && bitsPerCode < MaxCodeBits) bitsPerCode++;
                        }
                    }
                    pixels += length;
                    if (pixels >= full) return (pixels, width, height);
                    previous = code;
                }
            }
            at += block;
        }
        return null;
    }
}
