using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// FLUX.2's text encoder: a decoder-only LLM (Qwen3 for klein, Mistral for dev) run on the padded prompt with the
/// causal AND key-not-padding mask and position ids 0..L−1, stopping after the last hidden state FLUX.2 uses
/// (spec §7.2–§7.4). <see cref="Encode"/> returns the selected hidden states stacked layer-major, [B, L, S·hidden].
/// Keep one instance for many prompts; <see cref="Dispose"/> releases the weights (and the checkpoint mapping).
/// </summary>
public sealed class TextEncoder : IDisposable
{
    private readonly IBackend _backend;
    private TextEncoderWeights? _weights;

    public TextEncoderConfig Config { get; }

    /// <summary>The backend the weights are resident on and the encoder runs on.</summary>
    public IBackend Backend => _backend;
    /// <summary>The stacked hidden-state indices, ascending (slot s of the output holds hidden_states[HiddenStateLayers[s]]).</summary>
    public IReadOnlyList<int> HiddenStateLayers { get; }
    public FullyMaskedRows FullyMaskedRows { get; }

    /// <param name="weights">must hold at least the layers up to the last hidden-state index; disposed with the encoder</param>
    public TextEncoder(IBackend backend, TextEncoderConfig config, TextEncoderWeights weights, TextEncoderOptions? options = null)
    {
        options ??= new TextEncoderOptions();
        _backend = backend;
        Config = config;
        HiddenStateLayers = CheckLayers(options.HiddenStateLayers ?? config.FluxHiddenStateLayers, config);
        FullyMaskedRows = options.FullyMaskedRows;
        if (weights.Layers.Count < HiddenStateLayers[^1])
            throw new ArgumentException($"hidden state {HiddenStateLayers[^1]} needs {HiddenStateLayers[^1]} layers, the weights hold {weights.Layers.Count}");
        _weights = weights;
    }

    /// <summary>Opens a text_encoder/ folder or a weights file (config.json beside it unless <paramref name="configPath"/>
    /// is given; without one, the configuration inferred from the shapes), memory-maps it and loads only the embedding
    /// table and the layers the hidden states need.</summary>
    public static TextEncoder Open(IBackend backend, string weightsPath, string? configPath = null, TextEncoderOptions? options = null)
    {
        var (config, _, weightsFile) = TextEncoderFiles.ReadConfig(weightsPath, configPath);
        var layers = CheckLayers((options ?? new TextEncoderOptions()).HiddenStateLayers ?? config.FluxHiddenStateLayers, config);
        var checkpoint = SafeTensorsCheckpoint.Open(weightsFile);
        TextEncoderWeights weights;
        try
        {
            weights = TextEncoderWeights.Load(checkpoint, config, layers[^1], ownsCheckpoint: true, backend);
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
        return new TextEncoder(backend, config, weights, options);
    }

    /// <summary>Runs the LLM on token ids and attention mask, both [B, L] row-major on the host (mask 1 = real token,
    /// 0 = pad), and returns a backend tensor [B, L, S·hidden] in the activation type with feature slot·hidden + d =
    /// hidden_states[HiddenStateLayers[slot]][b, l, d], for every position, pads included. The caller disposes the result.</summary>
    public Tensor Encode(ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask, int batch)
    {
        var weights = _weights ?? throw new ObjectDisposedException(nameof(TextEncoder), "the text encoder's weights were released");
        int length = CheckInputs(inputIds, attentionMask, batch);
        var stacked = _backend.Allocate(_backend.ActivationDType, batch, length, HiddenStateLayers.Count * Config.HiddenSize);
        try
        {
            using var ids = _backend.Upload(inputIds, batch, length);
            using var mask = _backend.Upload(attentionMask, batch, length);
            using var ws = new Workspace(_backend, Config, batch, length);
            _backend.EmbeddingLookup(weights.Embedding, ids, ws.X);
            int hidden = Config.HiddenSize, slot = 0;
            if (HiddenStateLayers[0] == 0) _backend.CopyColumns(ws.X, 0, hidden, stacked, hidden * slot++);
            for (int i = 0; i < HiddenStateLayers[^1]; i++)
            {
                RunLayer(weights.Layers[i], ws, mask);
                if (HiddenStateLayers[slot] == i + 1) _backend.CopyColumns(ws.X, 0, hidden, stacked, hidden * slot++);
            }
            return stacked;
        }
        catch
        {
            stacked.Dispose();
            throw;
        }
    }

    /// <summary>x ← x + o_proj(Attn(input_layernorm(x))); x ← x + down_proj(SiLU(gate_proj(n)) ⊙ up_proj(n)) with
    /// n = post_attention_layernorm(x). The residual adds are fused into the output projections.</summary>
    private void RunLayer(TextEncoderLayerWeights layer, Workspace ws, Tensor attentionMask)
    {
        float eps = (float)Config.RmsNormEps;
        _backend.RmsNorm(ws.X, ws.Normed, layer.InputNorm, eps);
        _backend.Linear(ws.Normed, layer.Q, ws.Q);
        _backend.Linear(ws.Normed, layer.K, ws.K);
        _backend.Linear(ws.Normed, layer.V, ws.V);
        if (layer.QNorm != null && layer.KNorm != null)
        {
            // Qwen3: RMSNorm of every head over head_dim (one weight group per head), before RoPE.
            _backend.RmsNorm(ws.Q, ws.Q, layer.QNorm, eps);
            _backend.RmsNorm(ws.K, ws.K, layer.KNorm, eps);
        }
        _backend.RotaryHalf(ws.Q4, ws.Rope.Cos, ws.Rope.Sin);
        _backend.RotaryHalf(ws.K4, ws.Rope.Cos, ws.Rope.Sin);
        _backend.CausalMaskedAttention(ws.Q4, ws.K4, ws.V4, attentionMask, ws.Attention4, FullyMaskedRows);
        _backend.Linear(ws.Attention, layer.O, ws.X, accumulate: true);

        int m = Config.IntermediateSize;
        _backend.RmsNorm(ws.X, ws.Normed, layer.PostAttentionNorm, eps);
        _backend.Linear(ws.Normed, layer.Gate, ws.GateUp, yColumn: 0);
        _backend.Linear(ws.Normed, layer.Up, ws.GateUp, yColumn: m);
        _backend.SwiGlu(ws.GateUp, 0, m, ws.Mlp);
        _backend.Linear(ws.Mlp, layer.Down, ws.X, accumulate: true);
    }

    /// <returns>the sequence length</returns>
    private int CheckInputs(ReadOnlySpan<long> ids, ReadOnlySpan<long> mask, int batch)
    {
        if (batch < 1 || ids.Length == 0 || ids.Length % batch != 0)
            throw new TextEncoderException($"input_ids must be [batch, length] with batch, length ≥ 1; {ids.Length} ids do not make {batch} rows");
        if (mask.Length != ids.Length)
            throw new TextEncoderException($"attention_mask must have the shape of input_ids ({ids.Length} values), found {mask.Length}");
        int length = ids.Length / batch;
        for (int i = 0; i < ids.Length; i++)
        {
            if ((ulong)ids[i] >= (ulong)Config.VocabSize)
                throw new TextEncoderException($"input_ids[{i / length}, {i % length}] = {ids[i]} is outside the vocabulary [0, {Config.VocabSize})");
            if (mask[i] is not (0 or 1))
                throw new TextEncoderException($"attention_mask[{i / length}, {i % length}] = {mask[i]}, expected 0 or 1");
        }
        return length;
    }

    private static IReadOnlyList<int> CheckLayers(IReadOnlyList<int> layers, TextEncoderConfig config)
    {
        if (layers.Count == 0) throw new TextEncoderException("at least one hidden-state layer must be selected");
        for (int i = 0; i < layers.Count; i++)
        {
            if (layers[i] < 0 || layers[i] >= config.NumLayers)
                throw new TextEncoderException($"hidden-state layer {layers[i]} is outside [0, {config.NumLayers}) for this {config.NumLayers}-layer model"
                    + " (the last hidden state has the final norm applied, which FLUX.2 never uses)");
            if (i > 0 && layers[i] <= layers[i - 1])
                throw new TextEncoderException($"hidden-state layers must be strictly ascending, found [{string.Join(", ", layers)}]");
        }
        return layers.ToArray();
    }

    public void Dispose()
    {
        _weights?.Dispose();
        _weights = null;
    }

    /// <summary>The activations of one <see cref="Encode"/> call with their reshaped views, sized for [B, L].</summary>
    private sealed class Workspace : IDisposable
    {
        private readonly List<Tensor> _owned = [];

        public Tensor X, Normed, Q, K, V, Q4, K4, V4, Attention, Attention4, GateUp, Mlp;
        public RotaryTable Rope;

        public Workspace(IBackend backend, TextEncoderConfig c, int batch, int length)
        {
            int rows = batch * length, d = c.HeadDim;
            Tensor New(params int[] shape) => Own(backend.Allocate(backend.ActivationDType, shape));
            X = New(rows, c.HiddenSize);
            Normed = New(rows, c.HiddenSize);
            Q = New(rows, c.NumHeads * d);
            K = New(rows, c.NumKeyValueHeads * d);
            V = New(rows, c.NumKeyValueHeads * d);
            Q4 = Q.Reshape(batch, length, c.NumHeads, d);
            K4 = K.Reshape(batch, length, c.NumKeyValueHeads, d);
            V4 = V.Reshape(batch, length, c.NumKeyValueHeads, d);
            Attention = New(rows, c.NumHeads * d);
            Attention4 = Attention.Reshape(batch, length, c.NumHeads, d);
            GateUp = New(rows, 2 * c.IntermediateSize); // [gate | up], the layout SwiGlu reads
            Mlp = New(rows, c.IntermediateSize);
            Rope = new RotaryTable(backend, length, d, c.RopeTheta);
        }

        private Tensor Own(Tensor t)
        {
            _owned.Add(t);
            return t;
        }

        public void Dispose()
        {
            foreach (var t in _owned) t.Dispose();
            Rope.Dispose();
        }
    }
}
