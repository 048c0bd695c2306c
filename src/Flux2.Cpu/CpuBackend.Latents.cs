using Flux2.Core;
using Flux2.Cpu.Conv;

namespace Flux2.Cpu;

public sealed unsafe partial class CpuBackend
{
    public void Patchify2x2(Tensor z, Tensor patched) => Patch(z, patched, patchify: true);

    public void Unpatchify2x2(Tensor patched, Tensor z) => Patch(z, patched, patchify: false);

    private void Patch(Tensor z, Tensor patched, bool patchify)
    {
        RequireConvFloat32(z, 4, nameof(z));
        RequireConvFloat32(patched, 4, nameof(patched));
        int b = z.Shape[0], c = z.Shape[1], h = z.Shape[2], w = z.Shape[3];
        if (h % 2 != 0 || w % 2 != 0 || patched.Shape[0] != b || patched.Shape[1] != 4 * c || patched.Shape[2] != h / 2 || patched.Shape[3] != w / 2)
            throw new ArgumentException($"2x2 patchify: {patched.ShapeText} is not the patchified form of {z.ShapeText}");
        Patchify2x2Kernel.Run(Pool, z.Float32Pointer, patched.Float32Pointer, b, c, h, w, patchify);
    }

    public void NormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y) => ChannelAffine(x, mean, std, y, normalize: true);

    public void DenormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y) => ChannelAffine(x, mean, std, y, normalize: false);

    private void ChannelAffine(Tensor x, Tensor mean, Tensor std, Tensor y, bool normalize)
    {
        RequireConvFloat32(x, 4, nameof(x));
        RequireConvSameShape(x, y, "channel normalisation");
        RequireConvFloat32(mean, 1, nameof(mean));
        RequireConvFloat32(std, 1, nameof(std));
        int channels = x.Shape[1];
        if (mean.Shape[0] != channels || std.Shape[0] != channels)
            throw new ArgumentException($"channel normalisation: mean {mean.ShapeText} and std {std.ShapeText} do not cover the {channels} channels of {x.ShapeText}");
        ChannelAffineKernel.Run(Pool, x.Float32Pointer, y.Float32Pointer, x.Shape[0] * channels, channels, (long)x.Shape[2] * x.Shape[3],
            mean.Float32Pointer, std.Float32Pointer, normalize);
    }

    public void ImageToPixels(Tensor rgb, Tensor pixels)
    {
        var (b, h, w) = ImagePair(pixels, rgb);
        if (rgb.DType != DType.UInt8) throw new ArgumentException($"rgb must be UInt8, found {rgb.DType}", nameof(rgb));
        ImageConversionKernel.ToPixels(Pool, (byte*)rgb.Data, pixels.Float32Pointer, b, h, w);
    }

    public void PixelsToImage(Tensor pixels, Tensor image)
    {
        var (b, h, w) = ImagePair(pixels, image);
        if (image.DType is not (DType.UInt8 or DType.Float32))
            throw new ArgumentException($"image must be UInt8 or Float32, found {image.DType}", nameof(image));
        bool bytes = image.DType == DType.UInt8;
        ImageConversionKernel.ToImage(Pool, pixels.Float32Pointer, bytes ? (byte*)image.Data : null, bytes ? null : image.Float32Pointer, b, h, w);
    }

    /// <summary>Batch, height and width of planar pixels [B, 3, H, W] and their interleaved image [B, H, W, 3].</summary>
    private static (int B, int H, int W) ImagePair(Tensor pixels, Tensor image)
    {
        RequireConvFloat32(pixels, 4, nameof(pixels));
        int b = pixels.Shape[0], h = pixels.Shape[2], w = pixels.Shape[3];
        if (pixels.Shape[1] != 3 || image.Rank != 4 || image.Shape[0] != b || image.Shape[1] != h || image.Shape[2] != w || image.Shape[3] != 3)
            throw new ArgumentException($"pixels {pixels.ShapeText} and image {image.ShapeText} must be [B, 3, H, W] and [B, H, W, 3]");
        return (b, h, w);
    }
}
