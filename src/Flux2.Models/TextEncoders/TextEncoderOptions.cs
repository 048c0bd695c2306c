using Flux2.Core.Backend;

namespace Flux2.Models.TextEncoders;

/// <summary>How a <see cref="TextEncoder"/> runs.</summary>
public sealed record TextEncoderOptions
{
    /// <summary>The hidden states to stack, strictly ascending, each in [0, num_hidden_layers) (HF indexing:
    /// 0 = embeddings, k = output of decoder layer k, no final norm). Null means FLUX.2's
    /// <see cref="TextEncoderConfig.FluxHiddenStateLayers"/>. Layers past the last index are neither loaded nor run.</summary>
    public IReadOnlyList<int>? HiddenStateLayers { get; init; }

    /// <summary>
    /// What a pad query row that sees no key gets from attention (only left padding, i.e. dev's Mistral, has such
    /// rows, and FLUX.2 feeds them to the DiT). The default is <see cref="FullyMaskedRows.Zero"/> because that is what
    /// the reference pipeline computes: diffusers' Flux2Pipeline loads the Mistral3 text encoder with
    /// <c>from_pretrained</c> and no <c>attn_implementation</c>, so transformers picks "sdpa" (its default whenever
    /// the model supports it, which Mistral3 does); transformers' sdpa mask leaves fully masked rows as they are on
    /// torch ≥ 2.5 (its un-masking workaround is for older torch only), and torch ≥ 2.5's scaled_dot_product_attention
    /// returns zeros for such rows. <see cref="FullyMaskedRows.Uniform"/> reproduces the "eager" implementation.
    /// </summary>
    public FullyMaskedRows FullyMaskedRows { get; init; } = FullyMaskedRows.Zero;
}
