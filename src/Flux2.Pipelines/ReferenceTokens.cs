using Flux2.Core;

namespace Flux2.Pipelines;

/// <summary>The encoded reference images, concatenated in order: tokens Float32 [1, L_ref, 128] on the backend (VAE mean → patchify →
/// normalise → pack) and their ids [L_ref, 4] = (10 + 10k, y, x, 0). Owns the tokens.</summary>
public sealed class ReferenceTokens(Tensor tokens, long[] ids, IReadOnlyList<(int Width, int Height)> imageSizes) : IDisposable
{
    public Tensor Tokens { get; } = tokens;
    public long[] Ids { get; } = ids;

    /// <summary>Pixel size of each preprocessed reference image.</summary>
    public IReadOnlyList<(int Width, int Height)> ImageSizes { get; } = imageSizes;

    public void Dispose() => Tokens.Dispose();
}
