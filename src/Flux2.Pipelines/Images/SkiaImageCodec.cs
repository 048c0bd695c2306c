using System.Runtime.InteropServices;
using SkiaSharp;

namespace Flux2.Pipelines.Images;

/// <summary>
/// JPEG and WebP through SkiaSharp (libjpeg-turbo and libwebp, the libraries Pillow uses): decoding gives the pixels the
/// reference pipelines get from <c>Image.open(f).convert("RGB")</c>, bit for bit (stb's own JPEG decoder is off by up to
/// 105 levels on the 4:2:2 test file); encoding serves clients that ask for JPEG or WebP. The only code that touches SkiaSharp.
/// </summary>
public static class SkiaImageCodec
{
    /// <summary>Whether <paramref name="bytes"/> start like a JPEG (SOI marker) or a WebP file (RIFF container of type WEBP).</summary>
    public static bool Reads(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF])
        || (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8));

    /// <summary>Decodes a JPEG or WebP file (the first frame of an animation) to RGB, alpha dropped as Pillow's
    /// <c>convert("RGB")</c> drops it; the size its header declares is checked against <paramref name="limits"/> before any
    /// pixel is decoded.</summary>
    /// <param name="name">names the image in error messages</param>
    public static RgbImage Decode(byte[] bytes, string name, ImageDecodeLimits limits)
    {
        using var data = SKData.CreateCopy(bytes);
        using var codec = SKCodec.Create(data)
            ?? throw new ImageFileException($"{name}: not a readable image: the JPEG or WebP header is malformed or truncated");
        int width = codec.Info.Width, height = codec.Info.Height;
        limits.CheckDeclaredSize(width, height, name);
        // Unpremultiplied RGBA keeps each pixel's stored colour whatever its alpha, as Pillow does.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize64];
        var handle = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        SKCodecResult result;
        try
        {
            result = codec.GetPixels(info, handle.AddrOfPinnedObject());
        }
        finally
        {
            handle.Free();
        }
        // Incomplete input is an error, as in Pillow (which refuses truncated files unless told otherwise).
        if (result != SKCodecResult.Success)
            throw new ImageFileException($"{name}: not a readable image: the {codec.EncodedFormat} data is {Describe(result)}");
        var rgb = new byte[(long)width * height * 3];
        for (long i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }
        return new RgbImage(width, height, rgb);
    }

    /// <param name="quality">0 (smallest) to 100 (best)</param>
    public static byte[] EncodeJpeg(RgbImage image, int quality) =>
        Encode(image, quality, (pixmap, q) => pixmap.Encode(new SKJpegEncoderOptions(q, SKJpegEncoderDownsample.Downsample420, SKJpegEncoderAlphaOption.Ignore)));

    /// <param name="quality">0 (smallest) to 100 (best) of lossy WebP</param>
    public static byte[] EncodeWebp(RgbImage image, int quality) =>
        Encode(image, quality, (pixmap, q) => pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossy, q)));

    private static byte[] Encode(RgbImage image, int quality, Func<SKPixmap, int, SKData?> encode)
    {
        if (quality is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "expected 0 to 100");
        var rgbx = new byte[(long)image.Width * image.Height * 4];
        var rgb = image.Pixels;
        for (long i = 0, j = 0; i < rgb.Length; i += 3, j += 4)
        {
            rgbx[j] = rgb[i];
            rgbx[j + 1] = rgb[i + 1];
            rgbx[j + 2] = rgb[i + 2];
            rgbx[j + 3] = 255;
        }
        var handle = GCHandle.Alloc(rgbx, GCHandleType.Pinned);
        try
        {
            using var pixmap = new SKPixmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgb888x, SKAlphaType.Opaque), handle.AddrOfPinnedObject());
            using var data = encode(pixmap, quality) ?? throw new InvalidOperationException($"SkiaSharp could not encode a {image.Width}x{image.Height} image");
            return data.ToArray();
        }
        finally
        {
            handle.Free();
        }
    }

    private static string Describe(SKCodecResult result) => result switch
    {
        SKCodecResult.IncompleteInput => "truncated",
        SKCodecResult.ErrorInInput => "corrupt",
        _ => $"not decodable ({result})",
    };
}
