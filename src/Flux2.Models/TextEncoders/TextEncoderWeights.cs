using System.Globalization;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// The weights an early-exiting encoder needs: the embedding table and decoder layers 0..<see cref="Layers"/>.Count−1
/// only (spec §4.8), resident on a backend. The final norm, the LM head and, for Mistral3, the vision tower and projector
/// are never read. Disposing releases the weights (closing the checkpoint's mapping when this instance owns it).
/// </summary>
public sealed class TextEncoderWeights : IDisposable
{
    /// <summary>Where transformers versions put the language model's tensors; the first one present is used.</summary>
    public static IReadOnlyList<string> Prefixes { get; } = ["model.language_model.", "language_model.model.", "model."];

    public const string EmbeddingName = "embed_tokens.weight";
    /// <summary>The norm after the last layer: applied only to the final hidden state, which FLUX.2 does not use.</summary>
    public const string FinalNormName = "norm.weight";

    /// <summary>embed_tokens [vocab, hidden] in its stored format.</summary>
    public LinearWeight Embedding { get; }
    public IReadOnlyList<TextEncoderLayerWeights> Layers { get; }
    private readonly IDisposable? _owner;

    /// <param name="owner">what keeps the weight memory alive (a checkpoint, a buffer); disposed with the weights</param>
    /// <param name="embedding">resident on the backend the encoder runs on, like every weight of <paramref name="layers"/></param>
    public TextEncoderWeights(LinearWeight embedding, IReadOnlyList<TextEncoderLayerWeights> layers, IDisposable? owner)
    {
        Embedding = embedding;
        Layers = layers;
        _owner = owner;
    }

    /// <summary>Loads the embedding table and the first <paramref name="layerCount"/> layers onto <paramref name="backend"/>,
    /// checking every shape against <paramref name="config"/>. Takes ownership of <paramref name="checkpoint"/> when
    /// <paramref name="ownsCheckpoint"/>.</summary>
    public static TextEncoderWeights Load(SafeTensorsCheckpoint checkpoint, TextEncoderConfig config, int layerCount, bool ownsCheckpoint, IBackend backend)
    {
        if (layerCount < 0 || layerCount > config.NumLayers)
            throw new TextEncoderException($"{checkpoint.Path}: cannot load {layerCount} layers of a {config.NumLayers}-layer model");
        string prefix = Prefixes.FirstOrDefault(p => checkpoint.Contains(p + EmbeddingName))
            ?? throw new TextEncoderException($"{checkpoint.Path}: no embedding table; expected one of "
                + string.Join(", ", Prefixes.Select(p => $"'{p}{EmbeddingName}'")));
        var loader = new Loader(checkpoint, config, prefix, backend);
        var layers = new List<TextEncoderLayerWeights>();
        LinearWeight? embedding = null;
        try
        {
            embedding = loader.Linear(EmbeddingName, config.VocabSize, config.HiddenSize);
            for (int i = 0; i < layerCount; i++) layers.Add(loader.Layer(i));
            return new TextEncoderWeights(embedding, layers, ownsCheckpoint ? checkpoint : null);
        }
        catch
        {
            embedding?.Dispose();
            foreach (var l in layers) l.Dispose();
            throw;
        }
    }

    /// <summary>Every tensor <see cref="Load"/> reads for <paramref name="layerCount"/> layers, named as under the prefix.</summary>
    public static IReadOnlyList<TextEncoderTensor> ExpectedTensors(TextEncoderConfig config, int layerCount) =>
    [
        new(EmbeddingName, [config.VocabSize, config.HiddenSize], true),
        .. Enumerable.Range(0, layerCount).SelectMany(i => TextEncoderLayerWeights.ExpectedTensors(config, i)),
    ];

    /// <summary>Whether a tensor under the prefix belongs to what an encoder of <paramref name="layerCount"/> layers never
    /// reads: a later decoder layer or the final norm (spec §4.8).</summary>
    public static bool IsUnread(string name, int layerCount)
    {
        const string layers = "layers.";
        if (name == FinalNormName) return true;
        if (!name.StartsWith(layers, StringComparison.Ordinal)) return false;
        int end = name.IndexOf('.', layers.Length);
        return end > 0 && int.TryParse(name.AsSpan(layers.Length..end), NumberStyles.None, CultureInfo.InvariantCulture, out int layer)
            && layer >= layerCount;
    }

    public void Dispose()
    {
        Embedding.Dispose();
        foreach (var l in Layers) l.Dispose();
        _owner?.Dispose();
    }

    private sealed class Loader(SafeTensorsCheckpoint checkpoint, TextEncoderConfig config, string prefix, IBackend backend)
    {
        public TextEncoderLayerWeights Layer(int i)
        {
            string p = TextEncoderLayerWeights.Prefix(i);
            int h = config.HiddenSize, d = config.HeadDim;
            int q = config.NumHeads * d, kv = config.NumKeyValueHeads * d, m = config.IntermediateSize;
            var loaded = new List<IDisposable>();
            try
            {
                Tensor Norm(string name, int size)
                {
                    var t = Vector(p + name, size);
                    loaded.Add(t);
                    return t;
                }
                LinearWeight Linear(string name, int rows, int cols)
                {
                    var w = this.Linear(name, rows, cols);
                    loaded.Add(w);
                    return w;
                }
                return new TextEncoderLayerWeights
                {
                    InputNorm = Norm(TextEncoderLayerWeights.InputNormName, h),
                    QNorm = config.HasQkNorm ? Norm(TextEncoderLayerWeights.QNormName, d) : null,
                    KNorm = config.HasQkNorm ? Norm(TextEncoderLayerWeights.KNormName, d) : null,
                    Q = Linear(p + TextEncoderLayerWeights.QName, q, h),
                    K = Linear(p + TextEncoderLayerWeights.KName, kv, h),
                    V = Linear(p + TextEncoderLayerWeights.VName, kv, h),
                    O = Linear(p + TextEncoderLayerWeights.OName, h, q),
                    PostAttentionNorm = Norm(TextEncoderLayerWeights.PostAttentionNormName, h),
                    Gate = Linear(p + TextEncoderLayerWeights.GateName, m, h),
                    Up = Linear(p + TextEncoderLayerWeights.UpName, m, h),
                    Down = Linear(p + TextEncoderLayerWeights.DownName, h, m),
                };
            }
            catch
            {
                foreach (var t in loaded) t.Dispose();
                throw;
            }
        }

        public LinearWeight Linear(string name, int rows, int cols)
        {
            var w = LinearWeightLoader.Load(checkpoint, Require(name));
            if (w.OutFeatures != rows || w.InFeatures != cols)
                throw new TextEncoderException($"{checkpoint.Path}: '{prefix + name}' is [{w.OutFeatures}, {w.InFeatures}], expected [{rows}, {cols}] from the config");
            return backend.LoadLinear(w);
        }

        private Tensor Vector(string name, int size)
        {
            var view = checkpoint.Get(Require(name));
            if (view.Shape.Length != 1 || view.Shape[0] != size)
                throw new TextEncoderException($"{checkpoint.Path}: '{view.Name}' is {view.Info.ShapeText}, expected [{size}] from the config");
            if (!view.DType.IsFloatingPoint() || view.DType is DType.Float8E4M3 or DType.Float8E5M2 or DType.Float4E2M1x2)
                throw new TextEncoderException($"{checkpoint.Path}: '{view.Name}' is {view.DType.SafetensorsName()}, expected F32, BF16, F16 or F64");
            return backend.Upload<float>(view.ToFloat32Array(), size);
        }

        private string Require(string name)
        {
            string full = prefix + name;
            return checkpoint.Contains(full) ? full : throw new TextEncoderException($"{checkpoint.Path}: missing tensor '{full}'");
        }
    }
}
