namespace Flux2.Pipelines.Images;

/// <summary>An 8-bit RGB image, pixels row-major as [height, width, 3].</summary>
public sealed class RgbImage
{
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be positive");
        if (pixels.Length != (long)width * height * 3)
            throw new ArgumentException($"{pixels.Length} bytes do not fill a {width}x{height} RGB image", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    /// <summary>The <paramref name="width"/> x <paramref name="height"/> region whose top-left corner is (left, top).</summary>
    public RgbImage Crop(int left, int top, int width, int height)
    {
        if (left < 0 || top < 0 || width <= 0 || height <= 0 || left + width > Width || top + height > Height)
            throw new ArgumentOutOfRangeException(nameof(left), $"crop {width}x{height} at ({left}, {top}) is outside the {Width}x{Height} image");
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
            Pixels.AsSpan(((top + y) * Width + left) * 3, width * 3).CopyTo(pixels.AsSpan(y * width * 3));
        return new RgbImage(width, height, pixels);
    }
}
