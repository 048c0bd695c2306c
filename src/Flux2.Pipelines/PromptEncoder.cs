using Flux2.Core.Backend;
using Flux2.Models.TextEncoders;
using Flux2.Text;

namespace Flux2.Pipelines;

/// <summary>Prompt → transformer text input (spec §7): chat template, tokenize and pad to 512, run the LLM,
/// stack the selected hidden states. Owns the text encoder.</summary>
public sealed class PromptEncoder(PromptTokenizer tokenizer, TextEncoder encoder) : IDisposable
{
    public PromptTokenizer Tokenizer { get; } = tokenizer;
    public TextEncoder Encoder { get; } = encoder;

    /// <summary>Features per token of the output: hidden size × stacked layers.</summary>
    public int Features => Encoder.Config.HiddenSize * Encoder.HiddenStateLayers.Count;

    public IBackend Backend => Encoder.Backend;

    /// <param name="onNotice">receives the truncation warning of an over-long prompt</param>
    /// <param name="strict">reject an over-long prompt (PromptTooLongException) instead of truncating it</param>
    public PromptEmbedding Encode(string prompt, Action<string>? onNotice, bool strict = false) => Encode([prompt], onNotice, strict);

    /// <summary>Several prompts in one pass of the text encoder: embeddings [prompts.Count, 512, features].</summary>
    public PromptEmbedding Encode(IReadOnlyList<string> prompts, Action<string>? onNotice, bool strict = false)
    {
        if (prompts.Count == 0) throw new PipelineException("at least one prompt is needed");
        var tokens = prompts.Select(p => Tokenizer.Tokenize(p, strict: strict)).ToArray();
        for (int i = 0; i < tokens.Length; i++)
            if (tokens[i].Warning is { } warning) onNotice?.Invoke(prompts.Count > 1 ? $"prompt {i + 1}: {warning}" : warning);
        var embeddings = Encoder.Encode(tokens.SelectMany(t => t.InputIds).ToArray(), tokens.SelectMany(t => t.AttentionMask).ToArray(), tokens.Length);
        try
        {
            return new PromptEmbedding(Backend, embeddings);
        }
        catch
        {
            embeddings.Dispose();
            throw;
        }
    }

    public void Dispose() => Encoder.Dispose();
}
