using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Conv;

namespace Flux2.Cpu;

public sealed unsafe partial class CpuBackend
{
    // The convolution's chunk buffers are reused across calls; the lock keeps concurrent callers off them.
    private readonly Conv2dKernel _conv2d = new();

    public void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y,
        bool accumulate = false)
    {
        RequireConvFloat32(x, 4, nameof(x));
        RequireConvFloat32(y, 4, nameof(y));
        RequireConvFloat32(bias, 1, nameof(bias));
        var g = Conv2dGeometry.Of(x, weight, kernelSize, bias, stride, padding, y);
        lock (_conv2d)
        {
            for (int b = 0; b < x.Shape[0]; b++)
                _conv2d.Run(Pool, x.Float32Pointer + (long)b * g.InChannels * g.InPlane, g, weight, bias.Float32Pointer,
                    y.Float32Pointer + (long)b * g.OutChannels * g.OutPlane, accumulate, _bf16);
        }
    }

    public void GroupNorm(Tensor x, int groups, float eps, Tensor gamma, Tensor beta, bool silu, Tensor y)
    {
        RequireConvFloat32(x, 4, nameof(x));
        RequireConvFloat32(gamma, 1, nameof(gamma));
        RequireConvFloat32(beta, 1, nameof(beta));
        RequireConvSameShape(x, y, "group norm");
        int channels = x.Shape[1];
        if (groups < 1 || channels % groups != 0 || gamma.Shape[0] != channels || beta.Shape[0] != channels)
            throw new ArgumentException($"group norm: {groups} groups, gamma {gamma.ShapeText}, beta {beta.ShapeText} do not fit {x.ShapeText}");
        if (x.Data == y.Data) throw new ArgumentException("group norm: y must not alias x");
        GroupNormKernel.Run(Pool, x.Float32Pointer, x.Shape[0], channels, x.Shape[2] * x.Shape[3], groups, eps,
            gamma.Float32Pointer, beta.Float32Pointer, silu, y.Float32Pointer);
    }

    public void UpsampleNearest2x(Tensor x, Tensor y)
    {
        RequireConvFloat32(x, 4, nameof(x));
        RequireConvFloat32(y, 4, nameof(y));
        if (y.Shape[0] != x.Shape[0] || y.Shape[1] != x.Shape[1] || y.Shape[2] != 2 * x.Shape[2] || y.Shape[3] != 2 * x.Shape[3])
            throw new ArgumentException($"upsample x2: output {y.ShapeText} is not twice {x.ShapeText}");
        UpsampleNearestKernel.Run(Pool, x.Float32Pointer, x.Shape[0] * x.Shape[1], x.Shape[2], x.Shape[3], y.Float32Pointer);
    }

    public void TransposeLastTwo(Tensor x, Tensor y)
    {
        RequireConvFloat32(x, 3, nameof(x));
        RequireConvFloat32(y, 3, nameof(y));
        if (y.Shape[0] != x.Shape[0] || y.Shape[1] != x.Shape[2] || y.Shape[2] != x.Shape[1])
            throw new ArgumentException($"transpose: output {y.ShapeText} is not {x.ShapeText} with the last two axes swapped");
        if (x.Data == y.Data) throw new ArgumentException("transpose: y must not alias x");
        TransposeKernel.Run(Pool, x.Float32Pointer, x.Shape[0], x.Shape[1], x.Shape[2], y.Float32Pointer);
    }

    private static void RequireConvFloat32(Tensor t, int rank, string name)
    {
        if (t.DType != DType.Float32 || t.Rank != rank)
            throw new ArgumentException($"{name} must be a rank-{rank} Float32 tensor, found {t.DType} {t.ShapeText}");
    }

    private static void RequireConvSameShape(Tensor x, Tensor y, string op)
    {
        if (!x.Shape.AsSpan().SequenceEqual(y.Shape) || y.DType != x.DType)
            throw new ArgumentException($"{op}: output {y.DType} {y.ShapeText} differs from input {x.DType} {x.ShapeText}");
    }
}
