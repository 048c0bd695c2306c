namespace Flux2.Pipelines.Images;

/// <summary>
/// Brings a reference image to the size the VAE encodes (spec §9.7): reject sides under 64 px or an aspect ratio
/// over 8; above <c>cap</c> pixels, Lanczos-downscale to (int(w·s), int(h·s)) with s = √(cap/(w·h)); then
/// center-crop, never resize, to multiples of 16.
/// </summary>
public static class ReferenceImageGeometry
{
    public const int MinSide = 64;
    public const double MaxAspectRatio = 8.0;

    /// <param name="name">names the image in error messages (usually its file)</param>
    public static RgbImage Prepare(RgbImage image, string name, long capPixels)
    {
        int w = image.Width, h = image.Height;
        if (w < MinSide || h < MinSide)
            throw new ImageFileException($"{name}: reference image is {w}x{h}; both sides must be at least {MinSide} pixels");
        if ((double)Math.Max(w, h) / Math.Min(w, h) > MaxAspectRatio)
            throw new ImageFileException($"{name}: reference image is {w}x{h}; its aspect ratio must not exceed {MaxAspectRatio}:1");
        if ((long)w * h > capPixels)
        {
            double s = Math.Sqrt((double)capPixels / ((long)w * h));
            image = LanczosResampler.Resize(image, (int)(w * s), (int)(h * s));
            w = image.Width;
            h = image.Height;
        }
        int w16 = w / 16 * 16, h16 = h / 16 * 16;
        return w16 == w && h16 == h ? image : image.Crop((w - w16) / 2, (h - h16) / 2, w16, h16);
    }
}
