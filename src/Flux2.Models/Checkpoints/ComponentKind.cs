namespace Flux2.Models.Checkpoints;

/// <summary>The parts of a FLUX.2 pipeline (the folders of a diffusers repository, spec §4.3).</summary>
public enum ComponentKind
{
    Unknown,
    Transformer,
    Vae,
    TextEncoder,
    Tokenizer,
    Scheduler,
}

public static class ComponentKinds
{
    /// <summary>The kind a diffusers component name or a declared class stands for (Unknown when neither says).</summary>
    public static ComponentKind FromDeclaration(string? componentName, string? className)
    {
        if (className != null)
        {
            if (className == "Flux2Transformer2DModel") return ComponentKind.Transformer;
            if (className.StartsWith("AutoencoderKL", StringComparison.Ordinal)) return ComponentKind.Vae;
            if (className.EndsWith("ForCausalLM", StringComparison.Ordinal) || className.EndsWith("ForConditionalGeneration", StringComparison.Ordinal))
                return ComponentKind.TextEncoder;
            if (className.Contains("Tokenizer", StringComparison.Ordinal) || className.EndsWith("Processor", StringComparison.Ordinal))
                return ComponentKind.Tokenizer;
            if (className.EndsWith("Scheduler", StringComparison.Ordinal)) return ComponentKind.Scheduler;
        }
        return componentName switch
        {
            "transformer" => ComponentKind.Transformer,
            "vae" => ComponentKind.Vae,
            "text_encoder" => ComponentKind.TextEncoder,
            "tokenizer" => ComponentKind.Tokenizer,
            "scheduler" => ComponentKind.Scheduler,
            _ => ComponentKind.Unknown,
        };
    }

    public static string Describe(this ComponentKind kind) => kind switch
    {
        ComponentKind.Transformer => "transformer (DiT)",
        ComponentKind.Vae => "VAE",
        ComponentKind.TextEncoder => "text encoder",
        ComponentKind.Tokenizer => "tokenizer",
        ComponentKind.Scheduler => "scheduler",
        _ => "unknown",
    };
}
