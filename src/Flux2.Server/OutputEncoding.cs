using Flux2.Pipelines.Images;

namespace Flux2.Server;

/// <summary>A request's output format fields: OpenAI's <c>output_format</c> (png, jpeg or webp; default png) and
/// <c>output_compression</c> (the JPEG / WebP quality, default 100, as OpenAI's).</summary>
public static class OutputEncoding
{
    public const int DefaultQuality = 100;

    /// <param name="format">png, jpeg or webp; null: png</param>
    /// <param name="quality">0 to 100, already range-checked by the caller; null: 100</param>
    /// <param name="param">the field holding <paramref name="format"/>, for the error</param>
    /// <exception cref="RequestException">an unknown format</exception>
    public static ImageEncoding Parse(string? format, int? quality, string param) => new(format switch
    {
        null or "png" => ImageFormat.Png,
        "jpeg" => ImageFormat.Jpeg,
        "webp" => ImageFormat.Webp,
        _ => throw RequestException.BadField(param, $"'{format}' is not supported; use 'png', 'jpeg' or 'webp'"),
    }, quality ?? DefaultQuality);
}
