using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Cuda;

/// <summary>The VAE's image ops are not written for the GPU yet: each says so by name.</summary>
public sealed partial class CudaBackend
{
    public void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y,
        bool accumulate = false) => throw new CudaUnsupportedOpException(nameof(Conv2d));

    public void GroupNorm(Tensor x, int groups, float eps, Tensor gamma, Tensor beta, bool silu, Tensor y) =>
        throw new CudaUnsupportedOpException(nameof(GroupNorm));

    public void UpsampleNearest2x(Tensor x, Tensor y) => throw new CudaUnsupportedOpException(nameof(UpsampleNearest2x));

    public void TransposeLastTwo(Tensor x, Tensor y) => throw new CudaUnsupportedOpException(nameof(TransposeLastTwo));
}
