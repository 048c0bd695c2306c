using System.Buffers.Binary;
using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Images;

/// <summary>
/// Seeded mutations (<see cref="ByteMutations"/>) of a small valid file of every format
/// the reader takes, as an upload to the server could arrive: each mutant decodes or is refused with an
/// <see cref="ImageFileException"/>, never another exception (StbImageSharp's decoders run on raw pointers, so what escapes
/// them unchecked could be worse than an exception). A PNG mutant gets its chunk CRCs recomputed, so that it reaches the
/// decoder instead of the CRC check.
/// </summary>
public class ImageMutationFuzzTests
{
    private const int CasesPerFormat = 300;

    /// <summary>Bytes that are limits in headers: zero and all ones.</summary>
    private static readonly byte[][] Extremes = [[0x00], [0xFF]];

    public static TheoryData<string> Formats => ["bmp24", "bmp8", "tga-rle", "psd-rle", "psd16", "hdr-rle", "gif", "png", "jpeg", "webp"];

    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryMutantDecodesOrIsRefusedWithATypedError(string format)
    {
        var original = Original(format);
        var rng = new Random(format.Sum(c => c) + 2026); // a seed of its own per format, the same every run
        int decoded = 0, refused = 0;
        for (int i = 0; i < CasesPerFormat; i++)
        {
            var mutant = ByteMutations.Mutate(original, rng, maxEdits: 4, Extremes);
            if (format == "png") RecomputeCrcs(mutant);
            try
            {
                var image = ImageFileReader.Decode(mutant, "upload");
                Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
                decoded++;
            }
            catch (ImageFileException e)
            {
                Assert.StartsWith("upload: ", e.Message);
                refused++;
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"{format} case {i}: {e.GetType().Name} instead of ImageFileException: {e.Message}");
            }
        }
        // Both outcomes occur: a flipped pixel value still decodes, a broken header does not.
        Assert.True(decoded > 0 && refused > 0, $"{format}: decoded {decoded}, refused {refused}");
    }

    private static byte[] Original(string format) => format switch
    {
        "bmp24" => StbImageFiles.Bmp(13, 7, 24),
        "bmp8" => StbImageFiles.Bmp(11, 5, 8),
        "tga-rle" => StbImageFiles.Tga(13, 7, rle: true),
        "psd-rle" => StbImageFiles.Psd(10, 6, rle: true),
        "psd16" => StbImageFiles.Psd(10, 6, rle: false, bitsPerChannel: 16),
        "hdr-rle" => StbImageFiles.Hdr(16, 5, rle: true),
        "gif" => File.ReadAllBytes(Fixtures.File("images", "noise-16.gif")),
        "png" => PngWriter.Encode(StbImageFiles.Pattern(12, 9), []),
        "jpeg" => File.ReadAllBytes(Fixtures.File("images", "q75-422.jpg")),
        "webp" => File.ReadAllBytes(Fixtures.File("images", "q80.webp")),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };

    /// <summary>Rewrites the CRC of every whole chunk after the signature.</summary>
    private static void RecomputeCrcs(byte[] png)
    {
        for (int at = 8; at + 12 <= png.Length;)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(at));
            if (length > png.Length - at - 12) return;
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(at + 8 + (int)length), Crc32.Compute(png.AsSpan(at + 4, (int)length + 4)));
            at += 12 + (int)length;
        }
    }
}
