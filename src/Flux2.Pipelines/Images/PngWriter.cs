using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Flux2.Pipelines.Images;

/// <summary>
/// Writes 8-bit RGB PNG files with text metadata. Rows are filtered with the usual heuristic (per row, the filter
/// whose output has the smallest sum of absolute signed bytes), IDAT is one zlib stream. Metadata goes into tEXt
/// chunks, or iTXt (UTF-8) for text that Latin-1 cannot hold, such as most non-European prompts.
/// </summary>
public static class PngWriter
{
    private static ReadOnlySpan<byte> Signature => [137, 80, 78, 71, 13, 10, 26, 10];

    public static byte[] Encode(RgbImage image, IReadOnlyList<KeyValuePair<string, string>> text)
    {
        using var output = new MemoryStream();
        output.Write(Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8;  // bit depth
        header[9] = 2;  // colour type: RGB
        header[10] = 0; // deflate
        header[11] = 0; // adaptive filtering
        header[12] = 0; // no interlace
        WriteChunk(output, "IHDR", header);

        foreach (var (key, value) in text)
        {
            var (type, data) = TextChunk(key, value);
            WriteChunk(output, type, data);
        }

        WriteChunk(output, "IDAT", Compress(FilterRows(image)));
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    private static byte[] Compress(byte[] filtered)
    {
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) zlib.Write(filtered);
        return compressed.ToArray();
    }

    /// <summary>Each row becomes its filter-type byte followed by the filtered bytes (PNG filters 0–4, 3 bytes per pixel).</summary>
    private static byte[] FilterRows(RgbImage image)
    {
        int stride = image.Width * 3;
        var result = new byte[(stride + 1) * image.Height];
        var candidate = new byte[stride];
        var best = new byte[stride];
        var zeroRow = new byte[stride];
        for (int y = 0; y < image.Height; y++)
        {
            ReadOnlySpan<byte> row = image.Pixels.AsSpan(y * stride, stride);
            ReadOnlySpan<byte> above = y > 0 ? image.Pixels.AsSpan((y - 1) * stride, stride) : zeroRow;
            long bestCost = long.MaxValue;
            byte bestType = 0;
            for (byte type = 0; type <= 4; type++)
            {
                long cost = 0;
                for (int i = 0; i < stride; i++)
                {
                    int left = i >= 3 ? row[i - 3] : 0;
                    int up = above[i];
                    int upLeft = i >= 3 ? above[i - 3] : 0;
                    int predictor = type switch
                    {
                        0 => 0,
                        1 => left,
                        2 => up,
                        3 => (left + up) >> 1,
                        _ => Paeth(left, up, upLeft),
                    };
                    byte b = (byte)(row[i] - predictor);
                    candidate[i] = b;
                    int signed = (sbyte)b;
                    cost += signed < 0 ? -signed : signed;
                }
                if (cost < bestCost)
                {
                    bestCost = cost;
                    bestType = type;
                    candidate.CopyTo(best, 0);
                }
            }
            result[y * (stride + 1)] = bestType;
            best.CopyTo(result, y * (stride + 1) + 1);
        }
        return result;
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    /// <summary>A tEXt chunk, or an iTXt chunk (UTF-8) when the value is not Latin-1.</summary>
    private static (string Type, byte[] Data) TextChunk(string key, string value)
    {
        if (key.Length is < 1 or > 79 || !IsLatin1(key))
            throw new ArgumentException($"PNG text keyword '{key}' must be 1-79 Latin-1 characters without NUL", nameof(key));
        if (value.Contains('\0')) throw new ArgumentException($"PNG text '{key}' contains a NUL character", nameof(value));
        var data = new List<byte>(Encoding.Latin1.GetBytes(key)) { 0 };
        if (IsLatin1(value))
        {
            data.AddRange(Encoding.Latin1.GetBytes(value));
            return ("tEXt", data.ToArray());
        }
        // iTXt: compression flag 0, method 0, empty language tag and translated keyword, then UTF-8 text.
        data.AddRange([0, 0, 0, 0]);
        data.AddRange(Encoding.UTF8.GetBytes(value));
        return ("iTXt", data.ToArray());
    }

    private static bool IsLatin1(string s)
    {
        foreach (char c in s)
            if (c == '\0' || c > '\u00FF') return false;
        return true;
    }

    private static void WriteChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        output.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        output.Write(typeBytes);
        output.Write(data);
        uint crc = Crc32.Append(Crc32.Start, typeBytes);
        crc = Crc32.Finish(Crc32.Append(crc, data));
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }
}
