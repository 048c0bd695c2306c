namespace Flux2.Core.Backend;

/// <summary>The sizes of one 2-D convolution over a single image (NCHW, square kernel).</summary>
public readonly record struct Conv2dGeometry(
    int InChannels, int Height, int Width, int OutChannels, int KernelSize, int Stride, Conv2dPadding Padding)
{
    public int OutHeight => (Height + Padding.Top + Padding.Bottom - KernelSize) / Stride + 1;
    public int OutWidth => (Width + Padding.Left + Padding.Right - KernelSize) / Stride + 1;
    /// <summary>Length of one im2col row: the weight viewed as [Cout, Cin·k·k].</summary>
    public int PatchLength => InChannels * KernelSize * KernelSize;
    public int InPlane => Height * Width;
    public int OutPlane => OutHeight * OutWidth;

    /// <summary>The geometry of <see cref="IBackend.Conv2d"/>'s operands, checked: x [B, Cin, H, W] and y [B, Cout, Ho, Wo]
    /// of rank 4 with Ho and Wo from the kernel, stride and padding, a weight [Cout, Cin·k·k] and a bias [Cout]. Element
    /// types are the backend's to check.</summary>
    /// <exception cref="ArgumentException">when the operands do not fit one convolution</exception>
    public static Conv2dGeometry Of(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y)
    {
        if (x.Rank != 4 || y.Rank != 4 || bias.Rank != 1)
            throw new ArgumentException($"conv2d {weight.Name}: x {x.ShapeText} and y {y.ShapeText} must have rank 4, bias {bias.ShapeText} rank 1");
        if (kernelSize < 1 || stride < 1 || padding.Top < 0 || padding.Bottom < 0 || padding.Left < 0 || padding.Right < 0)
            throw new ArgumentException($"conv2d: invalid kernel {kernelSize}, stride {stride} or padding {padding}");
        var g = new Conv2dGeometry(x.Shape[1], x.Shape[2], x.Shape[3], y.Shape[1], kernelSize, stride, padding);
        // A window must fit the padded input at least once (integer division alone would round a negative count up to 1).
        bool fits = g.Height + padding.Top + padding.Bottom >= kernelSize && g.Width + padding.Left + padding.Right >= kernelSize;
        if (weight.OutFeatures != g.OutChannels || (long)weight.InFeatures != (long)g.InChannels * kernelSize * kernelSize || bias.Shape[0] != g.OutChannels)
            throw new ArgumentException($"conv2d {weight.Name}: weight [{weight.OutFeatures}, {weight.InFeatures}] and bias {bias.ShapeText} " +
                $"do not fit a {kernelSize}x{kernelSize} conv from {x.ShapeText} to {y.ShapeText}");
        if (y.Shape[0] != x.Shape[0] || !fits || y.Shape[2] != g.OutHeight || y.Shape[3] != g.OutWidth)
            throw new ArgumentException($"conv2d {weight.Name}: output {y.ShapeText} does not match input {x.ShapeText} " +
                $"with kernel {kernelSize}, stride {stride}, padding {padding}");
        // The output is written (the bias first) while the input is still being read.
        if (x.Storage == y.Storage && x.ByteOffset < y.ByteOffset + y.ByteLength && y.ByteOffset < x.ByteOffset + x.ByteLength)
            throw new ArgumentException($"conv2d {weight.Name}: output {y.ShapeText} overlaps input {x.ShapeText} in memory");
        return g;
    }
}
