namespace Flux2.Models.Quantization;

/// <summary>The published quantized transformer layouts <see cref="Flux2CheckpointQuantizer"/> writes.</summary>
public enum QuantizedCheckpointFormat
{
    /// <summary>FLUX.2-dev-NVFP4: U8 E2M1 pairs, swizzled E4M3 block scales, F32 weight_scale_2 (spec §5.1).</summary>
    Nvfp4,
    /// <summary>ComfyUI-style FP8: F8_E4M3 weights with an F32 per-tensor weight_scale (spec §5.7).</summary>
    Fp8,
}
