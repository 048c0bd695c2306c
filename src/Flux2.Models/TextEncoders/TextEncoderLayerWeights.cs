using Flux2.Core;

namespace Flux2.Models.TextEncoders;

/// <summary>The weights of one pre-norm decoder layer (HF names under <c>layers.{i}.</c>). Norm weights are small
/// fp32 copies; the Linear weights stay in their stored format.</summary>
public sealed class TextEncoderLayerWeights : IDisposable
{
    /// <summary>input_layernorm [hidden]</summary>
    public required Tensor InputNorm { get; init; }
    /// <summary>self_attn.q_norm [head_dim]; Qwen3 only.</summary>
    public Tensor? QNorm { get; init; }
    /// <summary>self_attn.k_norm [head_dim]; Qwen3 only.</summary>
    public Tensor? KNorm { get; init; }
    public required LinearWeight Q { get; init; }
    public required LinearWeight K { get; init; }
    public required LinearWeight V { get; init; }
    public required LinearWeight O { get; init; }
    /// <summary>post_attention_layernorm [hidden]</summary>
    public required Tensor PostAttentionNorm { get; init; }
    public required LinearWeight Gate { get; init; }
    public required LinearWeight Up { get; init; }
    public required LinearWeight Down { get; init; }

    public void Dispose()
    {
        InputNorm.Dispose();
        QNorm?.Dispose();
        KNorm?.Dispose();
        PostAttentionNorm.Dispose();
    }
}
