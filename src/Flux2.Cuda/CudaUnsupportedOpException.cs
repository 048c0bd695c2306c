using Flux2.Core;

namespace Flux2.Cuda;

/// <summary>An op (or an op on a weight format) the CUDA backend does not run yet. README.md lists what runs on the GPU.</summary>
public sealed class CudaUnsupportedOpException(string op)
    : Flux2Exception($"the CUDA backend does not run {op} yet; run this model with --device cpu")
{
    /// <summary>The op as IBackend names it, with the format when the format is what is missing.</summary>
    public string Op { get; } = op;
}
