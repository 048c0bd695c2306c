using Flux2.Core.Files;
using StbImageSharp;

namespace Flux2.Pipelines.Images;

/// <summary>Reads PNG, JPEG, WebP, BMP, GIF (first frame), TGA, PSD and HDR files into RGB (grey is expanded, alpha dropped as
/// the reference pipelines drop it) after checking what the file may cost (<see cref="ImageDecodeLimits"/>) and, for PNG, its
/// chunk CRCs: JPEG and WebP through <see cref="SkiaImageCodec"/> (the decoders Pillow uses), the others through StbImageSharp,
/// which reads a truncated file's missing bytes as zeros: such a file is refused, before decoding when it is smaller than
/// its declared size allows (<see cref="ImageSizeFloor"/>) or is a GIF whose data ends early (<see cref="GifImageData"/>),
/// else when stb reads past its end; so are the valid files stb would decode to wrong pixels (<see cref="StbMisreads"/>).</summary>
public static class ImageFileReader
{
    public static RgbImage Read(string path, ImageDecodeLimits? limits = null)
    {
        limits ??= ImageDecodeLimits.Default;
        var bytes = RegularFile.ReadAllBytes(path, limits.MaxFileBytes, problem => new ImageFileException($"{path}: {problem}"));
        return Decode(bytes, path, limits);
    }

    /// <param name="name">names the image in error messages</param>
    public static RgbImage Decode(byte[] bytes, string name, ImageDecodeLimits? limits = null)
    {
        limits ??= ImageDecodeLimits.Default;
        if (bytes.Length > limits.MaxFileBytes)
            throw new ImageFileException($"{name}: the image is {bytes.Length} bytes, more than the {limits.MaxFileBytes}-byte limit for input images");
        if (SkiaImageCodec.Reads(bytes)) return SkiaImageCodec.Decode(bytes, name, limits);
        if (PngChunks.IsPng(bytes)) PngChunks.Verify(bytes, name);
        var format = StbFileFormats.Sniff(bytes);
        var (width, height) = DeclaredSize(bytes, format, name);
        limits.CheckDeclaredSize(width, height, name);
        long floor = ImageSizeFloor.MinimumFileBytes(bytes, format, width, height);
        if (bytes.Length < floor)
            throw new ImageFileException($"{name}: truncated {format.Name()}: a {width}x{height} image needs at least {floor} bytes, " +
                $"but the file has {bytes.Length}");
        if (format == StbFileFormat.Gif) GifImageData.RefuseShort(bytes, name);
        StbMisreads.Refuse(bytes, format, width, height, name);

        using var stream = new TruncationDetectingStream(format == StbFileFormat.Gif ? GifTransparency.Cleared(bytes) : bytes);
        ImageResult result;
        try
        {
            // Alpha is dropped, not composited: the reference pipelines convert with PIL's Image.convert("RGB") (diffusers'
            // VaeImageProcessor.convert_to_rgb, BFL's sampling.to_rgb), which keeps each pixel's stored colour and discards
            // its alpha, transparent pixels included; stb's RGBA → RGB conversion does exactly that (and, for a GIF's
            // transparent colour, does once GifTransparency has cleared it).
            result = ImageResult.FromStream(stream, ColorComponents.RedGreenBlue);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // stb reports every malformed or unsupported file through an exception of its own; one it read past the end of
            // is truncated, whatever stb made of the zeros it got there.
            if (stream.ReadPastEnd) throw Truncated(name, format, e);
            throw new ImageFileException($"{name}: not a readable image (PNG, JPEG, WebP, BMP, GIF, TGA, PSD or HDR expected): {Reason(e.Message)}", e);
        }
        // The pixels stb made of the zeros it read past the end are dropped here (its own buffer is already freed).
        if (stream.ReadPastEnd) throw Truncated(name, format, null);
        if (result == null || result.Width <= 0 || result.Height <= 0 || result.Data.Length != result.Width * result.Height * 3)
            throw new ImageFileException($"{name}: not a readable image (PNG, JPEG, WebP, BMP, GIF, TGA, PSD or HDR expected)");
        return new RgbImage(result.Width, result.Height, result.Data);
    }

    private static ImageFileException Truncated(string name, StbFileFormat format, Exception? inner) =>
        new($"{name}: truncated {format.Name()}: the file ends before its image data does", inner);

    /// <summary>The size the header declares, read without decoding any pixel.</summary>
    private static (int Width, int Height) DeclaredSize(byte[] bytes, StbFileFormat format, string name)
    {
        ImageInfo? info;
        try
        {
            info = ImageInfo.FromStream(new MemoryStream(bytes, writable: false));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new ImageFileException($"{name}: not a readable image (PNG, JPEG, WebP, BMP, GIF, TGA, PSD or HDR expected): {Reason(e.Message)}", e);
        }
        // A BMP whose rows run top-down stores its height negated, and stb's info passes it on as it is.
        if (format == StbFileFormat.Bmp && info is { Height: < 0 and > int.MinValue } topDown)
            info = topDown with { Height = -topDown.Height };
        if (info is not { Width: > 0, Height: > 0 } i)
            throw new ImageFileException($"{name}: not a readable image (PNG, JPEG, WebP, BMP, GIF, TGA, PSD or HDR expected): its header gives no size");
        return (i.Width, i.Height);
    }

    /// <summary>stb's messages can carry raw bytes of the file (NULs included) or be empty; keep what a terminal can show.</summary>
    private static string Reason(string message)
    {
        var printable = new string(message.Where(c => !char.IsControl(c)).ToArray()).Trim();
        return printable.Length > 0 ? printable : "the decoder gave no reason";
    }
}
