namespace Flux2.Pipelines;

/// <summary>Component locations for a pipeline assembled from separate files, e.g. a BFL transformer single file, BFL's
/// ae.safetensors and Hugging Face text-encoder and tokenizer folders. Diffusers component folders work too.</summary>
public sealed record PipelineComponents
{
    /// <summary>Transformer weights: a .safetensors file, a shard index or a diffusers transformer/ folder.</summary>
    public required string Transformer { get; init; }

    /// <summary>VAE weights: ae.safetensors or a diffusers vae/ folder.</summary>
    public required string Vae { get; init; }

    /// <summary>Text-encoder folder (config.json + weights) or single .safetensors file (configuration from a config.json
    /// beside it, else inferred from its shapes); without it, only precomputed prompt embeddings work.</summary>
    public string? TextEncoder { get; init; }

    /// <summary>Tokenizer folder (tokenizer.json or tekken.json) or a GGUF file carrying one; null takes the one a GGUF
    /// <see cref="TextEncoder"/> carries, else for Qwen3 the built-in Qwen3 tokenizer (a Mistral encoder needs one).</summary>
    public string? Tokenizer { get; init; }

    /// <summary>The sampling variant; default: dev when the transformer has a guidance embedder, else klein distilled or
    /// base as a BFL file name says (flux-2-klein-base-4b vs flux-2-klein-4b).</summary>
    public PipelineVariant? Variant { get; init; }
}
