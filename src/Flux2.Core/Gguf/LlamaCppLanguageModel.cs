using System.Globalization;
using Flux2.Core.SafeTensors;

namespace Flux2.Core.Gguf;

/// <summary>
/// llama.cpp's layout of a decoder-only language model in GGUF (what its convert_hf_to_gguf.py writes, and the files FLUX.2
/// users already keep for their text encoders): <c>token_embd.weight</c>, <c>blk.N.attn_q.weight</c>, … and
/// hyperparameters under <c>{architecture}.*</c>. <see cref="GgufFile"/> presents such a file under the transformers
/// names (<c>model.embed_tokens.weight</c>, <c>model.layers.N.self_attn.q_proj.weight</c>, …), as ComfyUI-GGUF's loader
/// does, so that it loads like any transformers checkpoint. For the llama architectures the converter permutes the rows of
/// each head of q_proj and k_proj (LlamaModel.permute: rotate-half pairs (i, i + d/2) become adjacent rows 2i, 2i + 1, for
/// llama.cpp's interleaved rotary embedding); those tensors are given back in transformers' order.
/// </summary>
public static class LlamaCppLanguageModel
{
    /// <summary>The architectures read: Qwen3 (klein's encoders, rows as transformers has them), and llama and mistral3
    /// (Mistral-Small-3.x, dev's encoder: "llama" from older converters, "mistral3" from newer ones; rows permuted).</summary>
    public static IReadOnlyList<string> Architectures { get; } = ["qwen3", "llama", "mistral3"];

    public const string EmbeddingName = "token_embd.weight";
    private const string ArchitectureKey = "general.architecture";

    /// <summary>llama.cpp's per-layer tensor names (between "blk.N." and ".weight") and transformers' (after "model.layers.N.").</summary>
    private static readonly Dictionary<string, string> LayerNames = new(StringComparer.Ordinal)
    {
        ["attn_norm"] = "input_layernorm",
        ["attn_q_norm"] = "self_attn.q_norm",
        ["attn_k_norm"] = "self_attn.k_norm",
        ["attn_q"] = "self_attn.q_proj",
        ["attn_k"] = "self_attn.k_proj",
        ["attn_v"] = "self_attn.v_proj",
        ["attn_output"] = "self_attn.o_proj",
        ["ffn_norm"] = "post_attention_layernorm",
        ["ffn_gate"] = "mlp.gate_proj",
        ["ffn_up"] = "mlp.up_proj",
        ["ffn_down"] = "mlp.down_proj",
    };

    private static readonly Dictionary<string, string> ModelNames = new(StringComparer.Ordinal)
    {
        [EmbeddingName] = "model.embed_tokens.weight",
        ["output_norm.weight"] = "model.norm.weight",
        ["output.weight"] = "lm_head.weight",
    };

    /// <summary>Whether the file is a language model in llama.cpp's layout of one of <see cref="Architectures"/>.</summary>
    public static bool IsLayout(IReadOnlyDictionary<string, object> values, IReadOnlyCollection<string> names) =>
        values.TryGetValue(ArchitectureKey, out var a) && a is string architecture && Architectures.Contains(architecture)
        && names.Contains(EmbeddingName);

    /// <summary>The transformers name of a tensor of such a file; a name outside the mapping is kept as it is.</summary>
    public static string TransformersName(string name)
    {
        if (ModelNames.TryGetValue(name, out var model)) return model;
        const string blk = "blk.";
        if (!name.StartsWith(blk, StringComparison.Ordinal)) return name;
        int layerEnd = name.IndexOf('.', blk.Length);
        int partEnd = layerEnd < 0 ? -1 : name.LastIndexOf('.');
        if (partEnd <= layerEnd
            || !int.TryParse(name.AsSpan(blk.Length, layerEnd - blk.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
            || !LayerNames.TryGetValue(name[(layerEnd + 1)..partEnd], out var part))
            return name;
        return $"model.layers.{layer.ToString(CultureInfo.InvariantCulture)}.{part}{name[partEnd..]}";
    }

    /// <summary>The heads of every tensor (by transformers name) whose rows the converter permuted: q_proj and k_proj of
    /// the llama architectures. Checks what the rotary embedding needs of the file: llama.cpp's default rotary embedding over
    /// whole heads (no scaling, no per-frequency factors).</summary>
    internal static Dictionary<string, int> PermutedHeads(string path, IReadOnlyDictionary<string, object> values,
        IReadOnlyDictionary<string, TensorInfo> tensors)
    {
        string architecture = (string)values[ArchitectureKey];
        if (values.TryGetValue($"{architecture}.rope.scaling.type", out var scaling) && scaling is not "none")
            throw new GgufException(path, $"metadata '{architecture}.rope.scaling.type'",
                $"is '{scaling}'; only the unscaled rotary embedding of FLUX.2's text encoders is read");
        if (tensors.ContainsKey("rope_freqs.weight"))
            throw new GgufException(path, "tensor 'rope_freqs.weight'", "scales the rotary frequencies, which FLUX.2's text encoders do not");

        var heads = new Dictionary<string, int>(StringComparer.Ordinal);
        if (architecture == "qwen3") return heads;
        int queryHeads = HeadCount(path, values, $"{architecture}.attention.head_count", null);
        int keyHeads = HeadCount(path, values, $"{architecture}.attention.head_count_kv", queryHeads);
        foreach (var info in tensors.Values)
        {
            int count = info.Name.EndsWith(".self_attn.q_proj.weight", StringComparison.Ordinal) ? queryHeads
                : info.Name.EndsWith(".self_attn.k_proj.weight", StringComparison.Ordinal) ? keyHeads
                : 0;
            if (count == 0) continue;
            if (info.Shape.Length != 2 || info.Shape[0] % (2L * count) != 0)
                throw new GgufException(path, $"tensor '{info.Name}'", $"{info.ShapeText} does not hold {count} heads of an even number of rows");
            heads.Add(info.Name, count);
        }
        return heads;
    }

    /// <summary>Copies the rows of a permuted tensor back into transformers' order: within each of <paramref name="heads"/>
    /// heads of d rows, stored row 2i + s is row i + s·d/2.</summary>
    internal static unsafe void Unpermute(byte* stored, byte* target, long rows, long rowBytes, int heads)
    {
        long d = rows / heads, half = d / 2;
        for (long h = 0; h < heads; h++)
        for (long i = 0; i < half; i++)
        for (long s = 0; s < 2; s++)
            Buffer.MemoryCopy(stored + (h * d + 2 * i + s) * rowBytes, target + (h * d + s * half + i) * rowBytes, rowBytes, rowBytes);
    }

    private static int HeadCount(string path, IReadOnlyDictionary<string, object> values, string key, int? absent)
    {
        if (!values.TryGetValue(key, out var value))
            return absent ?? throw new GgufException(path, null, $"has no metadata '{key}', needed to undo the converter's row order of q_proj and k_proj");
        return value is uint n and > 0 and < 1 << 16 ? (int)n
            : throw new GgufException(path, $"metadata '{key}'", $"must be a positive uint32 head count, found {value}");
    }
}
