namespace Flux2.Core.Backend;

/// <summary>What attention returns for a query row whose mask allows no key at all. With left padding, every
/// pad query of a causal, key-padded LLM is such a row, and FLUX.2 feeds those rows to the DiT (spec §7.2).</summary>
public enum FullyMaskedRows
{
    /// <summary>A zero attention output: PyTorch's scaled_dot_product_attention since torch 2.5, i.e. transformers'
    /// "sdpa" attention, the default implementation transformers picks when loading a model.</summary>
    Zero,
    /// <summary>Equal weights over every key of the sequence (the mean of all values): transformers' "eager"
    /// attention, whose additive finfo.min mask swamps every score of such a row.</summary>
    Uniform,
}

/// <summary>Ops of the decoder-only text encoders (Qwen3, Mistral).</summary>
public partial interface IBackend
{
    /// <summary>output[t, :] = table[ids[t], :] as fp32.</summary>
    /// <param name="table">the [vocab, hidden] embedding matrix in its stored format</param>
    /// <param name="ids">Int64 token ids, any shape with N elements, each in [0, vocab)</param>
    /// <param name="output">Float32 with N · hidden elements</param>
    void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output);

    /// <summary>Rotate-half (non-interleaved) RoPE in place: for d &lt; D/2 at sequence position l,
    /// x[d] ← x[d]·cos[l,d] − x[d+D/2]·sin[l,d] and x[d+D/2] ← x[d+D/2]·cos[l,d] + x[d]·sin[l,d].</summary>
    /// <param name="x">Float32 [B, L, heads, D]</param>
    /// <param name="cos">Float32 [L, D/2]</param>
    /// <param name="sin">Float32 [L, D/2]</param>
    void RotaryHalf(Tensor x, Tensor cos, Tensor sin);

    /// <summary>Softmax attention with scale 1/√D where query i may see key j iff j ≤ i and keyMask[b, j] ≠ 0;
    /// query head h reads KV head h / (Hq / Hkv).</summary>
    /// <param name="q">Float32 [B, L, Hq, D]</param>
    /// <param name="k">Float32 [B, L, Hkv, D]</param>
    /// <param name="v">Float32 [B, L, Hkv, D]</param>
    /// <param name="keyMask">Int64 [B, L], nonzero for real tokens (a tokenizer's attention_mask)</param>
    /// <param name="output">Float32 [B, L, Hq, D]</param>
    void CausalMaskedAttention(Tensor q, Tensor k, Tensor v, Tensor keyMask, Tensor output, FullyMaskedRows fullyMaskedRows);

}
