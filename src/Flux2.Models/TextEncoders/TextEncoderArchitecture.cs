namespace Flux2.Models.TextEncoders;

/// <summary>The decoder-only LLMs FLUX.2 uses as text encoders (spec §7.3). Both are pre-norm Llama-style
/// decoders with GQA, rotate-half RoPE and a SwiGLU MLP; Qwen3 adds a per-head RMSNorm of q and k before RoPE.</summary>
public enum TextEncoderArchitecture
{
    /// <summary>klein: Qwen3-4B / Qwen3-8B (config.json model_type "qwen3").</summary>
    Qwen3,
    /// <summary>dev: the language model of Mistral-Small-3.x (model_type "mistral", or "mistral3" with a text_config).</summary>
    Mistral,
}
