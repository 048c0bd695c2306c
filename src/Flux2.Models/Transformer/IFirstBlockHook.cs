using Flux2.Core;

namespace Flux2.Models.Transformer;

/// <summary>
/// The decision point of First-Block-Cache (spec §10.1): a forward pass shows its image stream to the hook around double
/// block 0, and the hook may stop the pass there so that the caller reuses its previous prediction. The residual the
/// hook needs (after − before) is kept by the hook, so a model without a hook keeps no extra buffer.
/// </summary>
public interface IFirstBlockHook
{
    /// <summary>The image stream [B, L, D] (noisy then reference rows) as the input embedder made it. Valid only during the call.</summary>
    void BeforeFirstBlock(Tensor img);

    /// <summary>The image stream [B, L, D] after double block 0. Valid only during the call.</summary>
    /// <returns>true to skip the remaining blocks and the final layer (the output is then left unwritten)</returns>
    bool SkipAfterFirstBlock(Tensor img);
}
