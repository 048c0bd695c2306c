using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Cuda;

/// <summary>The text encoders' ops are not written for the GPU yet: each says so by name.</summary>
public sealed partial class CudaBackend
{
    public void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output) => throw new CudaUnsupportedOpException(nameof(EmbeddingLookup));

    public void RotaryHalf(Tensor x, Tensor cos, Tensor sin) => throw new CudaUnsupportedOpException(nameof(RotaryHalf));

    public void CausalMaskedAttention(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor output, FullyMaskedRows fullyMaskedRows) =>
        throw new CudaUnsupportedOpException(nameof(CausalMaskedAttention));
}
