using Flux2.Core;

namespace Flux2.Models.Vae;

/// <summary>
/// Conversion between 8-bit RGB images and the VAE's pixel tensors (spec §6.3–6.4), all arithmetic in fp32:
/// in, x = float(u8)/255 then 2x − 1 (diffusers' image processor); out, u8 = round(clamp(x/2 + 0.5, 0, 1)·255)
/// with round-half-to-even (diffusers/MAX; BFL's truncation differs by at most 1 LSB).
/// </summary>
public static class VaeImages
{
    /// <summary>Both sides of an image FLUX.2 encodes or generates must be multiples of this.</summary>
    public const int SizeMultiple = 16;

    /// <summary>RGB bytes [H, W, 3] → [1, 3, H, W] in [−1, 1].</summary>
    public static Tensor FromRgb(ReadOnlySpan<byte> rgb, int height, int width)
    {
        RequireImageSize(height, width, "image");
        if (rgb.Length != (long)height * width * 3)
            throw new VaeException($"image of {height}x{width} RGB pixels needs {(long)height * width * 3} bytes, found {rgb.Length}");
        var x = Tensor.Zeros(1, 3, height, width);
        var dst = x.AsSpan<float>();
        int plane = height * width;
        for (int p = 0; p < plane; p++)
        for (int c = 0; c < 3; c++)
            dst[c * plane + p] = 2f * (rgb[p * 3 + c] / 255f) - 1f;
        return x;
    }

    /// <summary>Decoded pixels [B, 3, H, W] → clamp(x/2 + 0.5, 0, 1) as [B, H, W, 3] fp32.</summary>
    public static Tensor ToUnitFloat(Tensor decoded)
    {
        var (b, h, w) = RequireDecoded(decoded);
        var y = Tensor.Zeros(b, h, w, 3);
        var src = decoded.AsSpan<float>();
        var dst = y.AsSpan<float>();
        for (int i = 0; i < dst.Length; i++) dst[i] = UnitFloat(src[SourceIndex(i, h * w)]);
        return y;
    }

    /// <summary>Decoded pixels [B, 3, H, W] → UInt8 [B, H, W, 3], u8 = round(clamp(x/2 + 0.5, 0, 1)·255).</summary>
    public static Tensor ToRgb(Tensor decoded)
    {
        var (b, h, w) = RequireDecoded(decoded);
        var y = Tensor.Zeros(DType.UInt8, b, h, w, 3);
        var src = decoded.AsSpan<float>();
        var dst = y.AsSpan<byte>();
        for (int i = 0; i < dst.Length; i++) dst[i] = (byte)MathF.Round(UnitFloat(src[SourceIndex(i, h * w)]) * 255f, MidpointRounding.ToEven);
        return y;
    }

    /// <summary>Rejects sizes FLUX.2 cannot encode: both sides positive multiples of 16 (crop or resize first).</summary>
    public static void RequireImageSize(int height, int width, string what)
    {
        if (height < SizeMultiple || width < SizeMultiple || height % SizeMultiple != 0 || width % SizeMultiple != 0)
            throw new VaeException($"{what} is {width}x{height} pixels; FLUX.2 needs both sides to be positive multiples of {SizeMultiple} " +
                "(crop or resize the image first)");
    }

    private static float UnitFloat(float x) => Math.Clamp(x / 2f + 0.5f, 0f, 1f);

    /// <summary>Index in [B, 3, H, W] of element i of [B, H, W, 3].</summary>
    private static int SourceIndex(int i, int plane)
    {
        int c = i % 3, p = i / 3 % plane, n = i / 3 / plane;
        return (n * 3 + c) * plane + p;
    }

    private static (int B, int H, int W) RequireDecoded(Tensor decoded)
    {
        if (decoded.DType != DType.Float32 || decoded.Rank != 4 || decoded.Shape[1] != 3)
            throw new VaeException($"decoded pixels must be Float32 [B, 3, H, W], found {decoded.DType} {decoded.ShapeText}");
        return (decoded.Shape[0], decoded.Shape[2], decoded.Shape[3]);
    }
}
