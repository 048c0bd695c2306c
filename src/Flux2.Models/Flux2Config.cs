using System.Globalization;
using System.Text.Json;
using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Core.Quantization;

namespace Flux2.Models;

/// <summary>
/// The FLUX.2 transformer configuration, field for field MAX's <c>Flux2Config</c> (spec §2.1). Defaults are
/// the dev configuration; <see cref="InitializeFromConfig"/> builds one from a diffusers transformer/config.json.
/// </summary>
public sealed record Flux2Config
{
    public int PatchSize { get; init; } = 1;
    public int InChannels { get; init; } = 128;
    /// <summary>null means "same as <see cref="InChannels"/>".</summary>
    public int? OutChannels { get; init; }
    public int NumLayers { get; init; } = 8;
    public int NumSingleLayers { get; init; } = 48;
    public int AttentionHeadDim { get; init; } = 128;
    public int NumAttentionHeads { get; init; } = 48;
    public int JointAttentionDim { get; init; } = 15360;
    public int TimestepGuidanceChannels { get; init; } = 256;
    public double MlpRatio { get; init; } = 3.0;
    public IReadOnlyList<int> AxesDimsRope { get; init; } = [32, 32, 32, 32];
    public double RopeTheta { get; init; } = 2000;
    public double Eps { get; init; } = 1e-6;
    public bool GuidanceEmbeds { get; init; } = true;
    public DType DType { get; init; } = DType.BFloat16;
    public IReadOnlyList<DeviceRef> Devices { get; init; } = [DeviceRef.Gpu(0)];
    public QuantConfig? QuantConfig { get; init; }
    /// <summary>BFL module names tagged "nvfp4" in the checkpoint's _quantization_metadata (empty when absent).</summary>
    public IReadOnlySet<string> Nvfp4LayersBfl { get; init; } = new HashSet<string>();

    public int InnerDim => NumAttentionHeads * AttentionHeadDim;
    public int MlpHidden => (int)(InnerDim * MlpRatio);
    public int EffectiveOutChannels => OutChannels ?? InChannels;

    /// <summary>The 14 diffusers config.json keys that map onto fields (all others are ignored).</summary>
    public static IReadOnlyList<string> JsonKeys { get; } =
    [
        "patch_size", "in_channels", "out_channels", "num_layers", "num_single_layers", "attention_head_dim",
        "num_attention_heads", "joint_attention_dim", "timestep_guidance_channels", "mlp_ratio", "axes_dims_rope",
        "rope_theta", "eps", "guidance_embeds",
    ];

    /// <summary>The published dev transformer (defaults).</summary>
    public static Flux2Config Dev() => new();

    /// <summary>The published klein-4B / klein-base-4B transformer.</summary>
    public static Flux2Config Klein4B() => new()
    {
        NumLayers = 5, NumSingleLayers = 20, NumAttentionHeads = 24, JointAttentionDim = 7680, GuidanceEmbeds = false,
    };

    /// <summary>The published klein-9B / klein-base-9B transformer.</summary>
    public static Flux2Config Klein9B() => new()
    {
        NumLayers = 8, NumSingleLayers = 24, NumAttentionHeads = 32, JointAttentionDim = 12288, GuidanceEmbeds = false,
    };

    /// <summary>
    /// MAX's <c>Flux2Config.initialize_from_config</c>: copies the known keys of a parsed transformer/config.json,
    /// maps the encoding to a quantization config and dtype, and validates the result.
    /// </summary>
    /// <param name="source">names the origin in error messages (usually the config.json path)</param>
    public static Flux2Config InitializeFromConfig(JsonElement config, string encoding, IReadOnlyList<DeviceRef> devices, string source = "config.json")
    {
        if (config.ValueKind != JsonValueKind.Object)
            throw new Flux2ConfigException($"{source}: expected a JSON object, found {config.ValueKind}");
        if (!DTypeInfo.TryParseEncoding(encoding, out _))
            throw new Flux2ConfigException($"unknown encoding '{encoding}' (expected bfloat16, float32, float16, float8_e4m3fn or float4_e2m1fnx2)");
        if (devices.Count == 0) throw new Flux2ConfigException("at least one device is required");

        var reader = new JsonConfigReader(problem => new Flux2ConfigException($"{source}: {problem}"));
        var c = new Flux2Config();
        foreach (var p in config.EnumerateObject())
        {
            var v = p.Value;
            c = p.Name switch
            {
                "patch_size" => c with { PatchSize = reader.Int(p.Name, v) },
                "in_channels" => c with { InChannels = reader.Int(p.Name, v) },
                "out_channels" => c with { OutChannels = v.ValueKind == JsonValueKind.Null ? null : reader.Int(p.Name, v) },
                "num_layers" => c with { NumLayers = reader.Int(p.Name, v) },
                "num_single_layers" => c with { NumSingleLayers = reader.Int(p.Name, v) },
                "attention_head_dim" => c with { AttentionHeadDim = reader.Int(p.Name, v) },
                "num_attention_heads" => c with { NumAttentionHeads = reader.Int(p.Name, v) },
                "joint_attention_dim" => c with { JointAttentionDim = reader.Int(p.Name, v) },
                "timestep_guidance_channels" => c with { TimestepGuidanceChannels = reader.Int(p.Name, v) },
                "mlp_ratio" => c with { MlpRatio = reader.Number(p.Name, v) },
                "axes_dims_rope" => c with { AxesDimsRope = reader.IntList(p.Name, v) },
                "rope_theta" => c with { RopeTheta = reader.Number(p.Name, v) },
                "eps" => c with { Eps = reader.Number(p.Name, v) },
                "guidance_embeds" => c with { GuidanceEmbeds = reader.Bool(p.Name, v) },
                _ => c,
            };
        }

        // Validated before the encoding is applied: NVFP4's quantization config is sized by the block counts.
        c.Validate(source);
        return c.WithEncoding(encoding) with { Devices = devices.ToArray() };
    }

    /// <summary>Steps 2–3 of <see cref="InitializeFromConfig"/>: "float4_e2m1fnx2" selects the NVFP4 quantization config and
    /// bf16 compute; any other encoding sets <see cref="DType"/> and no quantization config.</summary>
    public Flux2Config WithEncoding(string encoding)
    {
        if (!DTypeInfo.TryParseEncoding(encoding, out var encodingDType))
            throw new Flux2ConfigException($"unknown encoding '{encoding}' (expected bfloat16, float32, float16, float8_e4m3fn or float4_e2m1fnx2)");
        var quant = encodingDType == DType.Float4E2M1x2 ? QuantConfig.MakeNvfp4Config(NumLayers + NumSingleLayers) : null;
        return this with { QuantConfig = quant, DType = quant != null ? DType.BFloat16 : encodingDType };
    }

    /// <summary>Reads and initializes from a transformer/config.json file.</summary>
    public static Flux2Config FromJsonFile(string path, string encoding = "bfloat16", IReadOnlyList<DeviceRef>? devices = null)
    {
        if (!File.Exists(path)) throw new Flux2ConfigException($"{path}: file not found");
        using var doc = JsonText.ReadFile(path, (problem, _) => new Flux2ConfigException($"{path}: {problem}"));
        return InitializeFromConfig(doc.RootElement, encoding, devices ?? [DeviceRef.Cpu()], path);
    }

    /// <summary>Rejects values the FLUX.2 transformer cannot have (the C# additions of spec §2.2).</summary>
    public void Validate(string source = "config")
    {
        void Fail(string what) => throw new Flux2ConfigException($"{source}: {what}");
        if (PatchSize != 1) Fail($"patch_size must be 1 (latents are patchified outside the transformer), got {PatchSize}");
        if (InChannels != 128) Fail($"in_channels must be 128 (32 latent channels x 2x2 patch), got {InChannels}");
        if (EffectiveOutChannels <= 0) Fail($"out_channels must be positive, got {EffectiveOutChannels}");
        if (NumLayers < 0 || NumSingleLayers < 0) Fail($"num_layers ({NumLayers}) and num_single_layers ({NumSingleLayers}) must be >= 0");
        if (NumLayers + NumSingleLayers == 0) Fail("the transformer needs at least one block");
        if (AttentionHeadDim <= 0 || AttentionHeadDim % 2 != 0) Fail($"attention_head_dim must be a positive even number, got {AttentionHeadDim}");
        if (NumAttentionHeads <= 0) Fail($"num_attention_heads must be positive, got {NumAttentionHeads}");
        if (JointAttentionDim <= 0) Fail($"joint_attention_dim must be positive, got {JointAttentionDim}");
        if (TimestepGuidanceChannels <= 0 || TimestepGuidanceChannels % 2 != 0)
            Fail($"timestep_guidance_channels must be a positive even number, got {TimestepGuidanceChannels}");
        if (!(MlpRatio > 0) || MlpHidden <= 0) Fail($"mlp_ratio must be positive, got {MlpRatio.ToString(CultureInfo.InvariantCulture)}");
        if (AxesDimsRope.Count != 4) Fail($"axes_dims_rope must have 4 entries (t, h, w, l), got {AxesDimsRope.Count}");
        if (AxesDimsRope.Any(a => a <= 0 || a % 2 != 0)) Fail($"axes_dims_rope entries must be positive and even, got ({string.Join(", ", AxesDimsRope)})");
        if (AxesDimsRope.Sum() != AttentionHeadDim)
            Fail($"axes_dims_rope ({string.Join(", ", AxesDimsRope)}) sums to {AxesDimsRope.Sum()} but attention_head_dim is {AttentionHeadDim}");
        if (!(RopeTheta > 0)) Fail($"rope_theta must be positive, got {RopeTheta.ToString(CultureInfo.InvariantCulture)}");
        if (!(Eps > 0)) Fail($"eps must be positive, got {Eps.ToString(CultureInfo.InvariantCulture)}");
    }
}
