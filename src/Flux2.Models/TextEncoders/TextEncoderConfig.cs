using System.Text.Json;
using Flux2.Core.Checkpoints;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// The hyperparameters of a text-encoder LLM, read from its transformers config.json (spec §7.3): model_type
/// "qwen3", "mistral", or "mistral3" whose language model is described by "text_config".
/// </summary>
public sealed record TextEncoderConfig
{
    public required TextEncoderArchitecture Architecture { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int NumLayers { get; init; }
    public required int NumHeads { get; init; }
    public required int NumKeyValueHeads { get; init; }
    /// <summary>From config.json; heads · head_dim may differ from the hidden size (Qwen3-4B: 32 · 128 ≠ 2560).</summary>
    public required int HeadDim { get; init; }
    public required int VocabSize { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }

    /// <summary>Qwen3 normalizes each head of q and k (over head_dim) before RoPE; Mistral does not.</summary>
    public bool HasQkNorm => Architecture == TextEncoderArchitecture.Qwen3;

    /// <summary>The hidden states FLUX.2 stacks (HF indexing: 0 = embeddings, k = output of decoder layer k):
    /// Qwen3 9/18/27 (klein), Mistral 10/20/30 (dev), spec §7.4.</summary>
    public IReadOnlyList<int> FluxHiddenStateLayers => Architecture == TextEncoderArchitecture.Qwen3 ? [9, 18, 27] : [10, 20, 30];

    public static TextEncoderConfig FromJsonFile(string path)
    {
        if (!File.Exists(path)) throw new TextEncoderException($"{path}: text-encoder config.json not found");
        try
        {
            using var doc = JsonText.Parse(File.ReadAllBytes(path));
            return FromJson(doc.RootElement, path);
        }
        catch (JsonException e)
        {
            throw new TextEncoderException($"{path}: not valid JSON: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TextEncoderException($"{path}: cannot read the config: {e.Message}");
        }
    }

    /// <param name="source">names the origin in error messages (usually the config.json path)</param>
    public static TextEncoderConfig FromJson(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TextEncoderException($"{source}: expected a JSON object, found {root.ValueKind}");
        var modelType = String(root, "model_type", source)
            ?? throw new TextEncoderException($"{source}: missing 'model_type' (expected qwen3, mistral or mistral3)");
        var (architecture, c, where) = modelType switch
        {
            "qwen3" => (TextEncoderArchitecture.Qwen3, root, source),
            "mistral" => (TextEncoderArchitecture.Mistral, root, source),
            "mistral3" => (TextEncoderArchitecture.Mistral, TextConfig(root, source), source + " text_config"),
            _ => throw new TextEncoderException($"{source}: model_type '{modelType}' is not a supported text encoder (expected qwen3, mistral or mistral3)"),
        };

        if (Bool(c, "attention_bias", where) == true) throw new TextEncoderException($"{where}: attention_bias = true is not supported (FLUX.2's encoders have no biases)");
        var act = String(c, "hidden_act", where);
        if (act != null && act != "silu") throw new TextEncoderException($"{where}: hidden_act '{act}' is not supported (expected silu)");

        int hidden = Int(c, "hidden_size", where) ?? throw Missing(where, "hidden_size");
        int heads = Int(c, "num_attention_heads", where) ?? throw Missing(where, "num_attention_heads");
        var config = new TextEncoderConfig
        {
            Architecture = architecture,
            HiddenSize = hidden,
            IntermediateSize = Int(c, "intermediate_size", where) ?? throw Missing(where, "intermediate_size"),
            NumLayers = Int(c, "num_hidden_layers", where) ?? throw Missing(where, "num_hidden_layers"),
            NumHeads = heads,
            // transformers' defaults where a key is absent or null: MHA, Qwen3Config's head_dim 128, Mistral's hidden / heads.
            NumKeyValueHeads = Int(c, "num_key_value_heads", where) ?? heads,
            HeadDim = Int(c, "head_dim", where) ?? (architecture == TextEncoderArchitecture.Qwen3 ? 128 : (heads > 0 ? hidden / heads : 0)),
            VocabSize = Int(c, "vocab_size", where) ?? throw Missing(where, "vocab_size"),
            RmsNormEps = Double(c, "rms_norm_eps", where) ?? 1e-6,
            RopeTheta = RopeThetaOf(c, where),
        };
        config.Validate(where);
        return config;
    }

    /// <summary>Checks that the sizes describe a model the encoder can run.</summary>
    public void Validate(string source)
    {
        void Positive(string key, int value)
        {
            if (value <= 0) throw new TextEncoderException($"{source}: '{key}' must be positive, found {value}");
        }
        Positive("hidden_size", HiddenSize);
        Positive("intermediate_size", IntermediateSize);
        Positive("num_hidden_layers", NumLayers);
        Positive("num_attention_heads", NumHeads);
        Positive("num_key_value_heads", NumKeyValueHeads);
        Positive("head_dim", HeadDim);
        Positive("vocab_size", VocabSize);
        if (NumHeads % NumKeyValueHeads != 0)
            throw new TextEncoderException($"{source}: num_attention_heads {NumHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}");
        if (HeadDim % 2 != 0) throw new TextEncoderException($"{source}: head_dim {HeadDim} must be even for rotate-half RoPE");
        if (!(RmsNormEps > 0) || !double.IsFinite(RmsNormEps)) throw new TextEncoderException($"{source}: rms_norm_eps must be a positive number, found {RmsNormEps}");
        if (!(RopeTheta > 1) || !double.IsFinite(RopeTheta)) throw new TextEncoderException($"{source}: rope_theta must be a number above 1, found {RopeTheta}");
    }

    private static JsonElement TextConfig(JsonElement root, string source)
    {
        if (!root.TryGetProperty("text_config", out var t) || t.ValueKind != JsonValueKind.Object)
            throw new TextEncoderException($"{source}: model_type mistral3 needs a 'text_config' object with the language model's hyperparameters");
        var inner = String(t, "model_type", source + " text_config");
        if (inner != null && inner != "mistral")
            throw new TextEncoderException($"{source}: text_config model_type '{inner}' is not supported (expected mistral)");
        return t;
    }

    /// <summary>Default RoPE only: rope_theta at the top level, or under rope_parameters in newer transformers.</summary>
    private static double RopeThetaOf(JsonElement c, string source)
    {
        foreach (var key in new[] { "rope_scaling", "rope_parameters" })
        {
            if (!c.TryGetProperty(key, out var r) || r.ValueKind == JsonValueKind.Null) continue;
            if (r.ValueKind != JsonValueKind.Object) throw new TextEncoderException($"{source}: '{key}' must be an object or null");
            var type = String(r, "rope_type", source) ?? String(r, "type", source);
            if (type != null && type != "default")
                throw new TextEncoderException($"{source}: {key} rope_type '{type}' is not supported (only the default RoPE)");
        }
        if (Double(c, "rope_theta", source) is { } theta) return theta;
        if (c.TryGetProperty("rope_parameters", out var p) && p.ValueKind == JsonValueKind.Object && Double(p, "rope_theta", source) is { } nested)
            return nested;
        return 10000; // transformers' default base
    }

    private static TextEncoderException Missing(string source, string key) => new($"{source}: missing '{key}'");

    private static int? Int(JsonElement o, string key, string source)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out var i)) return i;
        throw new TextEncoderException($"{source}: '{key}' must be an integer, found {v.GetRawText()}");
    }

    private static double? Double(JsonElement o, string key, string source)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind == JsonValueKind.Number && v.TryGetDouble(out var d)) return d;
        throw new TextEncoderException($"{source}: '{key}' must be a number, found {v.GetRawText()}");
    }

    private static bool? Bool(JsonElement o, string key, string source)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new TextEncoderException($"{source}: '{key}' must be true or false, found {v.GetRawText()}"),
        };
    }

    private static string? String(JsonElement o, string key, string source)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        return v.ValueKind == JsonValueKind.String ? v.GetString() : throw new TextEncoderException($"{source}: '{key}' must be a string, found {v.GetRawText()}");
    }
}
