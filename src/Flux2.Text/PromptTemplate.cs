namespace Flux2.Text;

/// <summary>How a prompt is wrapped before tokenization (spec §7.1).</summary>
public enum PromptTemplate
{
    /// <summary>No template and no padding: the prompt's own token ids.</summary>
    None,

    /// <summary>FLUX.2 klein (Qwen3): one user turn, thinking disabled; right padding.</summary>
    Klein,

    /// <summary>FLUX.2 dev (Mistral): system prompt plus one instruction, [IMG] removed; left padding.</summary>
    Dev,
}
