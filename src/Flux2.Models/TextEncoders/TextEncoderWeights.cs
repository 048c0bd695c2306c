using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// The weights an early-exiting encoder needs: the embedding table and decoder layers 0..<see cref="Layers"/>.Count−1
/// only (spec §4.8). The final norm, the LM head and, for Mistral3, the vision tower and projector are never read.
/// Disposing releases the weights (closing the checkpoint's mapping when this instance owns it).
/// </summary>
public sealed class TextEncoderWeights : IDisposable
{
    /// <summary>Where transformers versions put the language model's tensors; the first one present is used.</summary>
    public static IReadOnlyList<string> Prefixes { get; } = ["model.language_model.", "language_model.model.", "model."];

    /// <summary>embed_tokens [vocab, hidden] in its stored format.</summary>
    public LinearWeight Embedding { get; }
    public IReadOnlyList<TextEncoderLayerWeights> Layers { get; }
    private readonly IDisposable? _owner;

    /// <param name="owner">what keeps the weight memory alive (a checkpoint, a buffer); disposed with the weights</param>
    public TextEncoderWeights(LinearWeight embedding, IReadOnlyList<TextEncoderLayerWeights> layers, IDisposable? owner)
    {
        Embedding = embedding;
        Layers = layers;
        _owner = owner;
    }

    /// <summary>Loads the embedding table and the first <paramref name="layerCount"/> layers, checking every shape
    /// against <paramref name="config"/>. Takes ownership of <paramref name="checkpoint"/> when <paramref name="ownsCheckpoint"/>.</summary>
    public static TextEncoderWeights Load(SafeTensorsCheckpoint checkpoint, TextEncoderConfig config, int layerCount, bool ownsCheckpoint)
    {
        if (layerCount < 0 || layerCount > config.NumLayers)
            throw new TextEncoderException($"{checkpoint.Path}: cannot load {layerCount} layers of a {config.NumLayers}-layer model");
        string prefix = Prefixes.FirstOrDefault(p => checkpoint.Contains(p + "embed_tokens.weight"))
            ?? throw new TextEncoderException($"{checkpoint.Path}: no embedding table; expected one of "
                + string.Join(", ", Prefixes.Select(p => $"'{p}embed_tokens.weight'")));
        var loader = new Loader(checkpoint, config, prefix);
        var layers = new List<TextEncoderLayerWeights>();
        try
        {
            var embedding = loader.Linear("embed_tokens.weight", config.VocabSize, config.HiddenSize);
            for (int i = 0; i < layerCount; i++) layers.Add(loader.Layer(i));
            return new TextEncoderWeights(embedding, layers, ownsCheckpoint ? checkpoint : null);
        }
        catch
        {
            foreach (var l in layers) l.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var l in Layers) l.Dispose();
        _owner?.Dispose();
    }

    private sealed class Loader(SafeTensorsCheckpoint checkpoint, TextEncoderConfig config, string prefix)
    {
        public TextEncoderLayerWeights Layer(int i)
        {
            string p = $"layers.{i}.";
            int h = config.HiddenSize, d = config.HeadDim;
            int q = config.NumHeads * d, kv = config.NumKeyValueHeads * d, m = config.IntermediateSize;
            var norms = new List<Tensor>();
            try
            {
                Tensor Norm(string name, int size)
                {
                    var t = Vector(p + name, size);
                    norms.Add(t);
                    return t;
                }
                return new TextEncoderLayerWeights
                {
                    InputNorm = Norm("input_layernorm.weight", h),
                    QNorm = config.HasQkNorm ? Norm("self_attn.q_norm.weight", d) : null,
                    KNorm = config.HasQkNorm ? Norm("self_attn.k_norm.weight", d) : null,
                    Q = Linear(p + "self_attn.q_proj.weight", q, h),
                    K = Linear(p + "self_attn.k_proj.weight", kv, h),
                    V = Linear(p + "self_attn.v_proj.weight", kv, h),
                    O = Linear(p + "self_attn.o_proj.weight", h, q),
                    PostAttentionNorm = Norm("post_attention_layernorm.weight", h),
                    Gate = Linear(p + "mlp.gate_proj.weight", m, h),
                    Up = Linear(p + "mlp.up_proj.weight", m, h),
                    Down = Linear(p + "mlp.down_proj.weight", h, m),
                };
            }
            catch
            {
                foreach (var t in norms) t.Dispose();
                throw;
            }
        }

        public LinearWeight Linear(string name, int rows, int cols)
        {
            var w = LinearWeightLoader.Load(checkpoint, Require(name));
            if (w.OutFeatures != rows || w.InFeatures != cols)
                throw new TextEncoderException($"{checkpoint.Path}: '{prefix + name}' is [{w.OutFeatures}, {w.InFeatures}], expected [{rows}, {cols}] from the config");
            return w;
        }

        private Tensor Vector(string name, int size)
        {
            var view = checkpoint.Get(Require(name));
            if (view.Shape.Length != 1 || view.Shape[0] != size)
                throw new TextEncoderException($"{checkpoint.Path}: '{view.Name}' is {view.Info.ShapeText}, expected [{size}] from the config");
            if (!view.DType.IsFloatingPoint() || view.DType is DType.Float8E4M3 or DType.Float8E5M2 or DType.Float4E2M1x2)
                throw new TextEncoderException($"{checkpoint.Path}: '{view.Name}' is {view.DType.SafetensorsName()}, expected F32, BF16, F16 or F64");
            return Tensor.FromArray(view.ToFloat32Array(), size);
        }

        private string Require(string name)
        {
            string full = prefix + name;
            return checkpoint.Contains(full) ? full : throw new TextEncoderException($"{checkpoint.Path}: missing tensor '{full}'");
        }
    }
}
