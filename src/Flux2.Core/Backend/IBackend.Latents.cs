namespace Flux2.Core.Backend;

/// <summary>The layouts and conversions between VAE images, VAE latents and transformer tokens (spec §6.3–6.4).
/// Latents are Float32 NCHW tensors.</summary>
public partial interface IBackend
{
    /// <summary>2×2 patchify: z [B, C, H, W] → patched [B, 4C, H/2, W/2] with patched[c·4 + dy·2 + dx, y, x] = z[c, 2y + dy, 2x + dx].</summary>
    void Patchify2x2(Tensor z, Tensor patched);

    /// <summary>The inverse of <see cref="Patchify2x2"/>: patched [B, 4C, h, w] → z [B, C, 2h, 2w].</summary>
    void Unpatchify2x2(Tensor patched, Tensor z);

    /// <summary>y = (x − mean[c]) / std[c] per channel of x [B, C, h, w]; mean and std are Float32 [C]. y may be x.</summary>
    void NormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y);

    /// <summary>y = x·std[c] + mean[c] per channel of x [B, C, h, w] (the inverse of <see cref="NormalizeChannels"/>). y may be x.</summary>
    void DenormalizeChannels(Tensor x, Tensor mean, Tensor std, Tensor y);

    /// <summary>8-bit RGB [B, H, W, 3] (UInt8) → pixels [B, 3, H, W] in [−1, 1]: 2·(u8/255) − 1 in fp32.</summary>
    void ImageToPixels(Tensor rgb, Tensor pixels);

    /// <summary>Decoded pixels [B, 3, H, W] (Float32 or the activation type) → images [B, H, W, 3]: u = clamp(x/2 + 0.5, 0, 1) in fp32, stored as it is
    /// (Float32 <paramref name="image"/>) or as round-half-to-even(255·u) (UInt8 <paramref name="image"/>).</summary>
    void PixelsToImage(Tensor pixels, Tensor image);
}
