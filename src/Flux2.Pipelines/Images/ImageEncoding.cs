namespace Flux2.Pipelines.Images;

/// <summary>How a generated image is written: PNG, or lossy JPEG / WebP at a quality from 0 (smallest) to 100 (best; PNG
/// ignores it). Each carries the generation's metadata: PNG as text chunks, JPEG and WebP as an XMP packet holding the
/// same entries.</summary>
public sealed record ImageEncoding
{
    public ImageFormat Format { get; }
    public int Quality { get; }

    public ImageEncoding(ImageFormat format, int quality)
    {
        if (quality is < 0 or > 100) throw new ArgumentOutOfRangeException(nameof(quality), quality, "expected 0 to 100");
        Format = format;
        Quality = quality;
    }

    public static ImageEncoding Png { get; } = new(ImageFormat.Png, 100);

    /// <summary>The format's name: png, jpeg or webp.</summary>
    public string Name => Format.ToString().ToLowerInvariant();

    /// <summary>The format a file name's extension names (.png, .jpg or .jpeg, .webp, in any case), or null.</summary>
    public static ImageFormat? FormatOf(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".png" => ImageFormat.Png,
        ".jpg" or ".jpeg" => ImageFormat.Jpeg,
        ".webp" => ImageFormat.Webp,
        _ => null,
    };

    /// <param name="metadata">the entries of <see cref="GenerationMetadata.Entries"/>, or none</param>
    public byte[] Encode(RgbImage image, IReadOnlyList<KeyValuePair<string, string>> metadata) => Format switch
    {
        ImageFormat.Jpeg => JpegXmp.Embed(SkiaImageCodec.EncodeJpeg(image, Quality), metadata),
        ImageFormat.Webp => WebpXmp.Embed(SkiaImageCodec.EncodeWebp(image, Quality), image.Width, image.Height, metadata),
        _ => PngWriter.Encode(image, metadata),
    };

    /// <summary>Encodes and writes the file atomically: a temporary file in the same folder is renamed over
    /// <paramref name="path"/> once complete, so a failure or cancellation never leaves a partial image.</summary>
    /// <param name="overwrite">replace an existing file; when false an existing file is an error</param>
    public void Write(string path, RgbImage image, IReadOnlyList<KeyValuePair<string, string>> metadata, bool overwrite)
    {
        if (!overwrite && File.Exists(path)) throw new ImageFileException($"{path}: file exists and would be overwritten");
        byte[] bytes = Encode(image, metadata);
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(temp)) File.Delete(temp);
            throw new ImageFileException($"{path}: cannot write the image ({e.Message})", e);
        }
    }
}
