namespace Flux2.Text;

/// <summary>
/// The two chat templates, hard-coded because .NET runs no Jinja (spec §7.1, §8.3). Klein renders
/// apply_chat_template(add_generation_prompt=True, enable_thinking=False) of one user message; dev renders the
/// Mistral system + user messages without a generation prompt, with BOS once.
/// </summary>
public static class ChatTemplates
{
    /// <summary>The dev system prompt. The line feed after "object" is part of it (BFL, diffusers Flux2Pipeline and
    /// MAX; only diffusers' modular pipeline has a space there).</summary>
    public const string DevSystemPrompt =
        "You are an AI that reasons about image descriptions. You give structured responses focusing on object relationships, object\n" +
        "attribution and actions without speculation.";

    /// <summary>Image placeholders removed from dev prompts: the text encoder sees no images.</summary>
    public const string ImagePlaceholder = "[IMG]";

    public static string Render(PromptTemplate template, string prompt) => template switch
    {
        PromptTemplate.None => prompt,
        PromptTemplate.Klein => $"<|im_start|>user\n{prompt}<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n",
        PromptTemplate.Dev => $"<s>[SYSTEM_PROMPT]{DevSystemPrompt}[/SYSTEM_PROMPT][INST]{prompt.Replace(ImagePlaceholder, "", StringComparison.Ordinal)}[/INST]",
        _ => throw new ArgumentOutOfRangeException(nameof(template), template, null),
    };
}
