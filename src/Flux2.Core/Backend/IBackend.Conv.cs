namespace Flux2.Core.Backend;

/// <summary>Zero padding added around the input of a 2-D convolution, in pixels per side.</summary>
public readonly record struct Conv2dPadding(int Top, int Bottom, int Left, int Right)
{
    /// <summary>The same padding on all four sides (1 for a "same" 3×3 convolution, 0 for 1×1).</summary>
    public static Conv2dPadding All(int pixels) => new(pixels, pixels, pixels, pixels);

    public override string ToString() => $"(top {Top}, bottom {Bottom}, left {Left}, right {Right})";
}

/// <summary>Image ops: convolutions, group normalisation and resampling on NCHW tensors of the backend's
/// <see cref="ActivationDType"/> (fp32 on the CPU). A convolution may also read or write Float32 (an image, latents), and
/// the transpose also moves Float32 latent tokens.</summary>
public partial interface IBackend
{
    /// <summary>
    /// y[b, co, oy, ox] (+)= bias[co] + Σ w[co, ci, ky, kx] · x[b, ci, oy·stride + ky − top, ox·stride + kx − left],
    /// reading zero outside the input. x [B, Cin, H, W] and y [B, Cout, Ho, Wo] are Float32 or the activation type, with
    /// Ho = (H + top + bottom − k)/stride + 1 (likewise Wo). The weight [Cout, Cin, k, k] is viewed as a
    /// <see cref="LinearWeight"/> [Cout, Cin·k·k] in its stored format; bias is fp32 [Cout]. y may not overlap x.
    /// </summary>
    /// <param name="accumulate">add the result to y (a fused residual add) instead of overwriting it</param>
    void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y,
        bool accumulate = false);

    /// <summary>
    /// GroupNorm over x [B, C, H, W]: each of <paramref name="groups"/> consecutive channel groups is normalised
    /// with its own mean and biased variance, then y = x̂·gamma[c] + beta[c], followed by SiLU when
    /// <paramref name="silu"/>. y may not alias x.
    /// </summary>
    void GroupNorm(Tensor x, int groups, float eps, Tensor gamma, Tensor beta, bool silu, Tensor y);

    /// <summary>Nearest-neighbour ×2 upsampling: y[b, c, 2i + di, 2j + dj] = x[b, c, i, j]; x [B, C, H, W], y [B, C, 2H, 2W].</summary>
    void UpsampleNearest2x(Tensor x, Tensor y);

    /// <summary>Swaps the last two axes: y[b, j, i] = x[b, i, j] for x [B, R, C] and y [B, C, R]
    /// (channels-first images ↔ token rows).</summary>
    void TransposeLastTwo(Tensor x, Tensor y);
}
