using Flux2.Core.Backend;

namespace Flux2.Cpu.Conv;

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
}
