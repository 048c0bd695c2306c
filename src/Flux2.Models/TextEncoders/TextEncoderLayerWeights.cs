using Flux2.Core;

namespace Flux2.Models.TextEncoders;

/// <summary>The weights of one pre-norm decoder layer (HF names under <c>layers.{i}.</c>), resident on a backend. Norm
/// weights are small fp32 copies; the Linear weights stay in their stored format.</summary>
public sealed class TextEncoderLayerWeights : IDisposable
{
    public const string InputNormName = "input_layernorm.weight";
    public const string QNormName = "self_attn.q_norm.weight";
    public const string KNormName = "self_attn.k_norm.weight";
    public const string QName = "self_attn.q_proj.weight";
    public const string KName = "self_attn.k_proj.weight";
    public const string VName = "self_attn.v_proj.weight";
    public const string OName = "self_attn.o_proj.weight";
    public const string PostAttentionNormName = "post_attention_layernorm.weight";
    public const string GateName = "mlp.gate_proj.weight";
    public const string UpName = "mlp.up_proj.weight";
    public const string DownName = "mlp.down_proj.weight";

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

    /// <summary>The prefix of layer <paramref name="index"/>'s tensor names.</summary>
    public static string Prefix(int index) => $"layers.{index}.";

    /// <summary>Every tensor of decoder layer <paramref name="index"/> with <paramref name="config"/>'s sizes.</summary>
    public static IEnumerable<TextEncoderTensor> ExpectedTensors(TextEncoderConfig config, int index)
    {
        string p = Prefix(index);
        long h = config.HiddenSize, d = config.HeadDim, m = config.IntermediateSize;
        long q = config.NumHeads * d, kv = config.NumKeyValueHeads * d;
        yield return new(p + InputNormName, [h], false);
        if (config.HasQkNorm)
        {
            yield return new(p + QNormName, [d], false);
            yield return new(p + KNormName, [d], false);
        }
        yield return new(p + QName, [q, h], true);
        yield return new(p + KName, [kv, h], true);
        yield return new(p + VName, [kv, h], true);
        yield return new(p + OName, [h, q], true);
        yield return new(p + PostAttentionNormName, [h], false);
        yield return new(p + GateName, [m, h], true);
        yield return new(p + UpName, [m, h], true);
        yield return new(p + DownName, [h, m], true);
    }

    public void Dispose()
    {
        InputNorm.Dispose();
        QNorm?.Dispose();
        KNorm?.Dispose();
        PostAttentionNorm.Dispose();
        foreach (var w in (LinearWeight[])[Q, K, V, O, Gate, Up, Down]) w.Dispose();
    }
}
