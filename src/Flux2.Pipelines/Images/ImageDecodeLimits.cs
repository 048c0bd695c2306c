namespace Flux2.Pipelines.Images;

/// <summary>What an input image may cost before it is decoded: its file size, and the pixels its header declares (a small
/// file can declare 20000×20000, and decoding it would take gigabytes). Checked before any pixel is decoded.</summary>
public sealed record ImageDecodeLimits
{
    /// <summary>8192² pixels: the largest image the pipeline generates.</summary>
    public const long DefaultMaxPixels = 8192L * 8192;

    public const long DefaultMaxFileBytes = 128L << 20;

    public static ImageDecodeLimits Default { get; } = new();

    public long MaxPixels { get; init; } = DefaultMaxPixels;

    public long MaxFileBytes { get; init; } = DefaultMaxFileBytes;

    /// <summary>Refuses an image whose header declares more than <see cref="MaxPixels"/>, naming it by <paramref name="name"/>.</summary>
    internal void CheckDeclaredSize(int width, int height, string name)
    {
        if ((long)width * height > MaxPixels)
            throw new ImageFileException($"{name}: the image declares {width}x{height} = {(long)width * height} pixels, " +
                $"more than the {MaxPixels}-pixel limit for input images");
    }
}
