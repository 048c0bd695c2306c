namespace Flux2.Models.Checkpoints;

/// <summary>How a checkpoint stores one Linear's weight, and so which sibling tensors it needs (spec §5.1, §5.7).</summary>
public enum LinearStorage
{
    /// <summary><c>X.weight</c> in F32, BF16 or F16.</summary>
    Float,
    /// <summary>U8 <c>X.weight</c> [N, K/2] + F8_E4M3 <c>X.weight_scale</c> + F32 <c>X.weight_scale_2</c> (+ optional <c>X.input_scale</c>).</summary>
    Nvfp4,
    /// <summary>F8_E4M3 <c>X.weight</c> + F32 <c>X.weight_scale</c> (+ optional <c>X.input_scale</c>).</summary>
    Fp8,
    /// <summary>FP8 with the scale spellings of older ComfyUI "scaled fp8" files: <c>X.scale_weight</c>, <c>X.scale_input</c>.</summary>
    Fp8LegacyScaleNames,
    /// <summary>A GGUF tensor <c>X.weight</c> of ggml blocks (Q4_0 … Q6_K), with no sibling tensors.</summary>
    GgmlBlocks,
}
