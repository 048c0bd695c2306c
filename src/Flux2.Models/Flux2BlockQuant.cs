using Flux2.Core.Quantization;

namespace Flux2.Models;

/// <summary>
/// Which Linears of one double block run quantized (MAX's per-block plan, spec §2.5): each field is the
/// <see cref="QuantConfig"/> to use, or null for bf16. <see cref="Ff"/> and <see cref="FfContext"/> govern both
/// Linears of their MLP. Single blocks are not covered: their format is decided per tensor.
/// </summary>
public sealed record Flux2BlockQuant(
    QuantConfig? AttnQkv,
    QuantConfig? AttnOut,
    QuantConfig? AddedAttnQkv,
    QuantConfig? AddedAttnOut,
    QuantConfig? Ff,
    QuantConfig? FfContext)
{
    /// <summary>The BFL module names (metadata keys) of the six fields of double block <paramref name="blockIdx"/>, in field order.</summary>
    public static IReadOnlyList<string> BflKeys(int blockIdx)
    {
        var p = $"double_blocks.{blockIdx}.";
        return [p + "img_attn.qkv", p + "img_attn.proj", p + "txt_attn.qkv", p + "txt_attn.proj", p + "img_mlp.0", p + "txt_mlp.0"];
    }

    /// <summary>The six fields in the order of <see cref="BflKeys"/>.</summary>
    public IReadOnlyList<QuantConfig?> Fields => [AttnQkv, AttnOut, AddedAttnQkv, AddedAttnOut, Ff, FfContext];

    /// <summary>
    /// MAX's rule, in order: no base config (bf16 run) → all bf16; int8 W8A8 → all quantized; no NVFP4 layers
    /// listed (metadata missing: the legacy dev NVFP4 fallback) → everything but the text-side attention;
    /// otherwise a field is quantized exactly when its BFL key is listed.
    /// </summary>
    public static Flux2BlockQuant Resolve(int blockIdx, QuantConfig? baseConfig, IReadOnlySet<string> nvfp4LayersBfl)
    {
        if (baseConfig == null) return new(null, null, null, null, null, null);
        if (baseConfig.IsInt8W8A8) return new(baseConfig, baseConfig, baseConfig, baseConfig, baseConfig, baseConfig);
        if (nvfp4LayersBfl.Count == 0) return new(baseConfig, baseConfig, null, null, baseConfig, baseConfig);
        var keys = BflKeys(blockIdx);
        QuantConfig? If(int field) => nvfp4LayersBfl.Contains(keys[field]) ? baseConfig : null;
        return new(If(0), If(1), If(2), If(3), If(4), If(5));
    }
}
