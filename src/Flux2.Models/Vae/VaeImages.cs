using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Models.Vae;

/// <summary>
/// Conversion between 8-bit RGB images and the VAE's pixel tensors (spec §6.3–6.4), all arithmetic in fp32 on the backend:
/// in, x = float(u8)/255 then 2x − 1 (diffusers' image processor); out, u8 = round(clamp(x/2 + 0.5, 0, 1)·255)
/// with round-half-to-even (diffusers/MAX; BFL's truncation differs by at most 1 LSB).
/// </summary>
public static class VaeImages
{
    /// <summary>Both sides of an image FLUX.2 encodes or generates must be multiples of this.</summary>
    public const int SizeMultiple = 16;

    /// <summary>RGB bytes [H, W, 3] (host) → a backend tensor [1, 3, H, W] in [−1, 1].</summary>
    public static Tensor FromRgb(IBackend backend, ReadOnlySpan<byte> rgb, int height, int width)
    {
        RequireImageSize(height, width, "image");
        if (rgb.Length != (long)height * width * 3)
            throw new VaeException($"image of {height}x{width} RGB pixels needs {(long)height * width * 3} bytes, found {rgb.Length}");
        using var bytes = backend.Upload(rgb, 1, height, width, 3);
        var x = backend.Allocate(DType.Float32, 1, 3, height, width);
        backend.ImageToPixels(bytes, x);
        return x;
    }

    /// <summary>Decoded pixels [B, 3, H, W] → clamp(x/2 + 0.5, 0, 1) as [B, H, W, 3] fp32.</summary>
    public static Tensor ToUnitFloat(IBackend backend, Tensor decoded) => ToImage(backend, decoded, DType.Float32);

    /// <summary>Decoded pixels [B, 3, H, W] → UInt8 [B, H, W, 3], u8 = round(clamp(x/2 + 0.5, 0, 1)·255).</summary>
    public static Tensor ToRgb(IBackend backend, Tensor decoded) => ToImage(backend, decoded, DType.UInt8);

    /// <summary>Rejects sizes FLUX.2 cannot encode: both sides positive multiples of 16 (crop or resize first).</summary>
    public static void RequireImageSize(int height, int width, string what)
    {
        if (height < SizeMultiple || width < SizeMultiple || height % SizeMultiple != 0 || width % SizeMultiple != 0)
            throw new VaeException($"{what} is {width}x{height} pixels; FLUX.2 needs both sides to be positive multiples of {SizeMultiple} " +
                "(crop or resize the image first)");
    }

    private static Tensor ToImage(IBackend backend, Tensor decoded, DType dtype)
    {
        if (decoded.DType != DType.Float32 && decoded.DType != backend.ActivationDType || decoded.Rank != 4 || decoded.Shape[1] != 3)
            throw new VaeException($"decoded pixels must be Float32 or {backend.ActivationDType} [B, 3, H, W], found {decoded.DType} {decoded.ShapeText}");
        var image = backend.Allocate(dtype, decoded.Shape[0], decoded.Shape[2], decoded.Shape[3], 3);
        backend.PixelsToImage(decoded, image);
        return image;
    }
}
