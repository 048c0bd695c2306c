using Flux2.Pipelines.Images;

namespace Flux2.Server;

public enum OutputFormat { Png, Jpeg, Webp }

/// <summary>How the server encodes the images it returns: PNG (lossless, with the generation's text metadata as
/// <c>flux2 generate</c> writes it), or lossy JPEG / WebP at a quality from 0 to 100 (OpenAI's <c>output_compression</c>,
/// default 100; PNG ignores it).</summary>
public sealed record ImageEncoding(OutputFormat Format, int Quality)
{
    public const int DefaultQuality = 100;

    public static ImageEncoding Png { get; } = new(OutputFormat.Png, DefaultQuality);

    /// <summary>The format's name on the wire: png, jpeg or webp.</summary>
    public string Name => Format.ToString().ToLowerInvariant();

    /// <param name="format">png, jpeg or webp; null: png</param>
    /// <param name="quality">0 to 100, already range-checked by the caller; null: 100</param>
    /// <param name="param">the field holding <paramref name="format"/>, for the error</param>
    /// <exception cref="RequestException">an unknown format</exception>
    public static ImageEncoding Parse(string? format, int? quality, string param) => new(format switch
    {
        null or "png" => OutputFormat.Png,
        "jpeg" => OutputFormat.Jpeg,
        "webp" => OutputFormat.Webp,
        _ => throw RequestException.BadField(param, $"'{format}' is not supported; use 'png', 'jpeg' or 'webp'"),
    }, quality ?? DefaultQuality);

    /// <param name="pngText">the text chunks a PNG carries (other formats carry none)</param>
    public byte[] Encode(RgbImage image, IReadOnlyList<KeyValuePair<string, string>> pngText) => Format switch
    {
        OutputFormat.Jpeg => SkiaImageCodec.EncodeJpeg(image, Quality),
        OutputFormat.Webp => SkiaImageCodec.EncodeWebp(image, Quality),
        _ => PngWriter.Encode(image, pngText),
    };
}
