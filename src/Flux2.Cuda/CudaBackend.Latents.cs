using Flux2.Core;
using Flux2.Cuda.Device;
using Flux2.Cuda.Kernels;
using static Flux2.Cuda.CudaOperands;

namespace Flux2.Cuda;

public sealed unsafe partial class CudaBackend
{
    public void Patchify2x2(Tensor z, Tensor patched) => Patch(z, patched, patchify: true);

    public void Unpatchify2x2(Tensor patched, Tensor z) => Patch(z, patched, patchify: false);

    private void Patch(Tensor z, Tensor patched, bool patchify)
    {
        Float32Rank(z, 4, nameof(z));
        Float32Rank(patched, 4, nameof(patched));
        int b = z.Shape[0], c = z.Shape[1], h = z.Shape[2], w = z.Shape[3];
        if (h % 2 != 0 || w % 2 != 0 || patched.Shape[0] != b || patched.Shape[1] != 4 * c || patched.Shape[2] != h / 2 || patched.Shape[3] != w / 2)
            throw new ArgumentException($"2x2 patchify: {patched.ShapeText} is not the patchified form of {z.ShapeText}");
        var a = new KernelArguments();
        a.Add(Pointer(z, nameof(z)));
        a.Add(Pointer(patched, nameof(patched)));
        a.Add((long)b * c);
        a.Add(h);
        a.Add(w);
        a.Add(patchify ? 1 : 0);
        Launch("patchify_2x2", z.Length, ref a);
    }

    public void NormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y) => ChannelAffine(x, mean, std, y, normalize: true);

    public void DenormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y) => ChannelAffine(x, mean, std, y, normalize: false);

    private void ChannelAffine(Tensor x, Tensor mean, Tensor std, Tensor y, bool normalize)
    {
        Float32Rank(x, 4, nameof(x));
        SameShape(x, y, nameof(y));
        Float32Rank(mean, 1, nameof(mean));
        Float32Rank(std, 1, nameof(std));
        int channels = x.Shape[1];
        if (mean.Shape[0] != channels || std.Shape[0] != channels)
            throw new ArgumentException($"channel normalisation: mean {mean.ShapeText} and std {std.ShapeText} do not cover the {channels} channels of {x.ShapeText}");
        var a = new KernelArguments();
        a.Add(Pointer(x, nameof(x)));
        a.Add(Pointer(y, nameof(y)));
        a.Add((long)x.Shape[0] * channels);
        a.Add(channels);
        a.Add((long)x.Shape[2] * x.Shape[3]);
        a.Add(Pointer(mean, nameof(mean)));
        a.Add(Pointer(std, nameof(std)));
        a.Add(normalize ? 1 : 0);
        Launch("channel_affine", x.Length, ref a);
    }

    public void ImageToPixels(Tensor rgb, Tensor pixels)
    {
        Float32Rank(pixels, 4, nameof(pixels));
        var (b, h, w) = ImagePair(pixels, rgb);
        Type(rgb, DType.UInt8, nameof(rgb));
        var a = new KernelArguments();
        a.Add(Pointer(rgb, nameof(rgb)));
        a.Add(Pointer(pixels, nameof(pixels)));
        a.Add(b);
        a.Add(h);
        a.Add(w);
        Launch("image_to_pixels", pixels.Length, ref a);
    }

    /// <summary>Pixels may be Float32 or BFloat16 (a decoder's activations), the image UInt8 or Float32.</summary>
    public void PixelsToImage(Tensor pixels, Tensor image)
    {
        Activation(pixels, nameof(pixels));
        var (b, h, w) = ImagePair(pixels, image);
        if (image.DType is not (DType.UInt8 or DType.Float32))
            throw new ArgumentException($"image must be UInt8 or Float32, found {image.DType}", nameof(image));
        var a = new KernelArguments();
        a.Add(Pointer(pixels, nameof(pixels)));
        a.Add(Pointer(image, nameof(image)));
        a.Add(b);
        a.Add(h);
        a.Add(w);
        Launch(KernelFamily.ForActivation(image.DType == DType.UInt8 ? "pixels_to_bytes" : "pixels_to_unit", pixels.DType), pixels.Length, ref a);
    }
}
