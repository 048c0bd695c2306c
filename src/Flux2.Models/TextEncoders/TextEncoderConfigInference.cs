using System.Globalization;
using Flux2.Core;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// Derives a text encoder's <see cref="TextEncoderConfig"/> from its tensor shapes, for the single files ComfyUI and
/// stable-diffusion.cpp distribute without a config.json: vocabulary and hidden size from embed_tokens, the layer count
/// from the highest <c>layers.N</c>, Qwen3 or Mistral from the presence of q_norm, the head dim from q_norm's length
/// (Mistral has none: 128, as in every published FLUX.2 encoder), query and key/value heads from q_proj and k_proj, the MLP
/// size from gate_proj. RMSNorm eps and RoPE θ are in no tensor: they are the published models' (Qwen3-4B/8B config.json:
/// 1e-6 and 1e6; Mistral-Small-3.x text_config: 1e-5 and 1e9), unless a GGUF file states them
/// (<see cref="TextEncoderGgufMetadata"/>). Quantized weights count by their logical shape.
/// </summary>
public static class TextEncoderConfigInference
{
    /// <summary>Mistral-Small-3.x's head_dim (32 heads × 128 ≠ its hidden size 5120, so it cannot be derived).</summary>
    public const int MistralHeadDim = 128;

    public static TextEncoderConfig Infer(SafeTensorsCheckpoint checkpoint)
    {
        var tensors = checkpoint.Names.ToDictionary(n => n, checkpoint.Info, StringComparer.Ordinal);
        if (checkpoint.Files is not [GgufFile { IsLlamaCppLanguageModel: true } gguf]) return Infer(tensors, checkpoint.Path);
        TextEncoderGgufMetadata.CheckArchitecture(gguf, tensors);
        return TextEncoderGgufMetadata.Apply(Infer(tensors, checkpoint.Path, TextEncoderGgufMetadata.HeadDim(gguf)), gguf);
    }

    /// <param name="source">names the checkpoint in errors</param>
    /// <param name="mistralHeadDim">a Mistral model's head_dim where the file states it (else <see cref="MistralHeadDim"/>)</param>
    public static TextEncoderConfig Infer(IReadOnlyDictionary<string, TensorInfo> tensors, string source, int? mistralHeadDim = null)
    {
        var prefix = TextEncoderWeights.Prefixes.FirstOrDefault(p => tensors.ContainsKey(p + TextEncoderWeights.EmbeddingName))
            ?? throw new TextEncoderException(tensors.ContainsKey(LlamaCppLanguageModel.EmbeddingName)
                ? $"{source}: a language model in llama.cpp's GGUF layout ('{LlamaCppLanguageModel.EmbeddingName}', 'blk.N.…') whose " +
                    $"general.architecture is none of {string.Join(", ", LlamaCppLanguageModel.Architectures)}, the text encoders read"
                : $"{source}: no embedding table, so not a text encoder; expected one of " +
                    string.Join(", ", TextEncoderWeights.Prefixes.Select(p => $"'{p}{TextEncoderWeights.EmbeddingName}'")));

        TensorInfo Need(string name) => tensors.TryGetValue(prefix + name, out var t) ? t
            : throw new TextEncoderException($"{source}: missing tensor '{prefix + name}' needed to infer the text encoder's configuration");
        // A Linear's logical [out, in]: U8 NVFP4 weights pack two values per byte.
        (int Rows, int Columns) Linear(string name)
        {
            var t = Need(name);
            if (t.Shape.Length != 2) throw new TextEncoderException($"{source}: '{t.Name}' must be 2-D, found {t.ShapeText}");
            return (Positive(t.Shape[0], t.Name, source), Positive(t.Shape[1] * (t.DType == DType.UInt8 ? 2 : 1), t.Name, source));
        }

        var (vocab, hidden) = Linear(TextEncoderWeights.EmbeddingName);
        int layers = LayerCount(tensors.Keys, prefix);
        if (layers == 0) throw new TextEncoderException($"{source}: no decoder layers ('{prefix}layers.0.*'), so not a text encoder");
        string layer0 = TextEncoderLayerWeights.Prefix(0);
        bool qwen3 = tensors.ContainsKey(prefix + layer0 + TextEncoderLayerWeights.QNormName);
        int headDim = mistralHeadDim ?? MistralHeadDim;
        if (qwen3)
        {
            var norm = Need(layer0 + TextEncoderLayerWeights.QNormName);
            if (norm.Shape.Length != 1) throw new TextEncoderException($"{source}: '{norm.Name}' must be 1-D [head_dim], found {norm.ShapeText}");
            headDim = Positive(norm.Shape[0], norm.Name, source);
        }
        var (q, _) = Linear(layer0 + TextEncoderLayerWeights.QName);
        var (kv, _) = Linear(layer0 + TextEncoderLayerWeights.KName);
        var (mlp, _) = Linear(layer0 + TextEncoderLayerWeights.GateName);
        if (q % headDim != 0 || kv % headDim != 0)
            throw new TextEncoderException($"{source}: q_proj has {q} and k_proj {kv} output features, not whole heads of {headDim}; " +
                "give the encoder's config.json");

        var config = new TextEncoderConfig
        {
            Architecture = qwen3 ? TextEncoderArchitecture.Qwen3 : TextEncoderArchitecture.Mistral,
            HiddenSize = hidden,
            IntermediateSize = mlp,
            NumLayers = layers,
            NumHeads = q / headDim,
            NumKeyValueHeads = kv / headDim,
            HeadDim = headDim,
            VocabSize = vocab,
            RmsNormEps = qwen3 ? 1e-6 : 1e-5,
            RopeTheta = qwen3 ? 1e6 : 1e9,
        };
        config.Validate($"{source} (configuration inferred from tensor shapes)");
        return config;
    }

    /// <summary>1 + the largest N among "{prefix}layers.N.…".</summary>
    private static int LayerCount(IEnumerable<string> names, string prefix)
    {
        string layers = prefix + "layers.";
        int count = 0;
        foreach (var n in names)
        {
            if (!n.StartsWith(layers, StringComparison.Ordinal)) continue;
            int end = n.IndexOf('.', layers.Length);
            if (end > layers.Length && int.TryParse(n.AsSpan(layers.Length, end - layers.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int i)
                && i < int.MaxValue)
                count = Math.Max(count, i + 1);
        }
        return count;
    }

    private static int Positive(long value, string name, string source) =>
        value is > 0 and <= int.MaxValue ? (int)value : throw new TextEncoderException($"{source}: '{name}' has an impossible dimension {value}");
}
