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

    /// <summary>The published encoder this is, told by architecture and hidden size ("Qwen3-4B" for klein 4B, "Qwen3-8B" for
    /// klein 9B, "Mistral-Small-3.x" for dev); null for another size.</summary>
    public string? PublishedName => PublishedNameOf(Architecture, HiddenSize);

    public static string? PublishedNameOf(TextEncoderArchitecture architecture, int hiddenSize) => (architecture, hiddenSize) switch
    {
        (TextEncoderArchitecture.Qwen3, 2560) => "Qwen3-4B",
        (TextEncoderArchitecture.Qwen3, 4096) => "Qwen3-8B",
        (TextEncoderArchitecture.Mistral, 5120) => "Mistral-Small-3.x",
        _ => null,
    };

    /// <summary>klein-4B's encoder, Qwen3-4B, as its published config.json describes it.</summary>
    public static TextEncoderConfig Qwen3_4B() => Qwen3(hidden: 2560, intermediate: 9728);

    /// <summary>klein-9B's encoder, Qwen3-8B, as its published config.json describes it.</summary>
    public static TextEncoderConfig Qwen3_8B() => Qwen3(hidden: 4096, intermediate: 12288);

    /// <summary>dev's encoder, the language model of Mistral-Small-3.x, as its published config.json describes it.</summary>
    public static TextEncoderConfig MistralSmall3() => new()
    {
        Architecture = TextEncoderArchitecture.Mistral, HiddenSize = 5120, IntermediateSize = 32768, NumLayers = 40, NumHeads = 32,
        NumKeyValueHeads = 8, HeadDim = 128, VocabSize = 131072, RmsNormEps = 1e-5, RopeTheta = 1e9,
    };

    private static TextEncoderConfig Qwen3(int hidden, int intermediate) => new()
    {
        Architecture = TextEncoderArchitecture.Qwen3, HiddenSize = hidden, IntermediateSize = intermediate, NumLayers = 36, NumHeads = 32,
        NumKeyValueHeads = 8, HeadDim = 128, VocabSize = 151936, RmsNormEps = 1e-6, RopeTheta = 1e6,
    };

    /// <summary>The hidden states FLUX.2 stacks (HF indexing: 0 = embeddings, k = output of decoder layer k):
    /// Qwen3 9/18/27 (klein), Mistral 10/20/30 (dev), spec §7.4.</summary>
    public IReadOnlyList<int> FluxHiddenStateLayers => Architecture == TextEncoderArchitecture.Qwen3 ? [9, 18, 27] : [10, 20, 30];

    public static TextEncoderConfig FromJsonFile(string path)
    {
        if (!File.Exists(path)) throw new TextEncoderException($"{path}: text-encoder config.json not found");
        using var doc = JsonText.ReadFile(path, (problem, _) => new TextEncoderException($"{path}: {problem}"));
        return FromJson(doc.RootElement, path);
    }

    /// <param name="source">names the origin in error messages (usually the config.json path)</param>
    public static TextEncoderConfig FromJson(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new TextEncoderException($"{source}: expected a JSON object, found {root.ValueKind}");
        var modelType = Reader(source).OptionalString(root, "model_type")
            ?? throw new TextEncoderException($"{source}: missing 'model_type' (expected qwen3, mistral or mistral3)");
        var (architecture, c, where) = modelType switch
        {
            "qwen3" => (TextEncoderArchitecture.Qwen3, root, source),
            "mistral" => (TextEncoderArchitecture.Mistral, root, source),
            "mistral3" => (TextEncoderArchitecture.Mistral, TextConfig(root, source), source + " text_config"),
            _ => throw new TextEncoderException($"{source}: model_type '{modelType}' is not a supported text encoder (expected qwen3, mistral or mistral3)"),
        };

        var reader = Reader(where);
        if (reader.OptionalBool(c, "attention_bias") == true) throw new TextEncoderException($"{where}: attention_bias = true is not supported (FLUX.2's encoders have no biases)");
        var act = reader.OptionalString(c, "hidden_act");
        if (act != null && act != "silu") throw new TextEncoderException($"{where}: hidden_act '{act}' is not supported (expected silu)");

        int hidden = reader.OptionalInt(c, "hidden_size") ?? throw Missing(where, "hidden_size");
        int heads = reader.OptionalInt(c, "num_attention_heads") ?? throw Missing(where, "num_attention_heads");
        var config = new TextEncoderConfig
        {
            Architecture = architecture,
            HiddenSize = hidden,
            IntermediateSize = reader.OptionalInt(c, "intermediate_size") ?? throw Missing(where, "intermediate_size"),
            NumLayers = reader.OptionalInt(c, "num_hidden_layers") ?? throw Missing(where, "num_hidden_layers"),
            NumHeads = heads,
            // transformers' defaults where a key is absent or null: MHA, Qwen3Config's head_dim 128, Mistral's hidden / heads.
            NumKeyValueHeads = reader.OptionalInt(c, "num_key_value_heads") ?? heads,
            HeadDim = reader.OptionalInt(c, "head_dim") ?? (architecture == TextEncoderArchitecture.Qwen3 ? 128 : (heads > 0 ? hidden / heads : 0)),
            VocabSize = reader.OptionalInt(c, "vocab_size") ?? throw Missing(where, "vocab_size"),
            RmsNormEps = reader.OptionalNumber(c, "rms_norm_eps") ?? 1e-6,
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
        var inner = Reader(source + " text_config").OptionalString(t, "model_type");
        if (inner != null && inner != "mistral")
            throw new TextEncoderException($"{source}: text_config model_type '{inner}' is not supported (expected mistral)");
        return t;
    }

    /// <summary>Default RoPE only: rope_theta at the top level, or under rope_parameters in newer transformers.</summary>
    private static double RopeThetaOf(JsonElement c, string source)
    {
        var reader = Reader(source);
        foreach (var key in new[] { "rope_scaling", "rope_parameters" })
        {
            if (!c.TryGetProperty(key, out var r) || r.ValueKind == JsonValueKind.Null) continue;
            if (r.ValueKind != JsonValueKind.Object) throw new TextEncoderException($"{source}: '{key}' must be an object or null");
            var type = reader.OptionalString(r, "rope_type") ?? reader.OptionalString(r, "type");
            if (type != null && type != "default")
                throw new TextEncoderException($"{source}: {key} rope_type '{type}' is not supported (only the default RoPE)");
        }
        if (reader.OptionalNumber(c, "rope_theta") is { } theta) return theta;
        if (c.TryGetProperty("rope_parameters", out var p) && p.ValueKind == JsonValueKind.Object && reader.OptionalNumber(p, "rope_theta") is { } nested)
            return nested;
        return 10000; // transformers' default base
    }

    private static TextEncoderException Missing(string source, string key) => new($"{source}: missing '{key}'");

    private static JsonConfigReader Reader(string source) => new(problem => new TextEncoderException($"{source}: {problem}"));
}
