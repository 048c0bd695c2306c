using Flux2.Core;

namespace Flux2.Text;

/// <summary>Raised in strict mode when a templated prompt has more tokens than the text encoder's fixed length.</summary>
public sealed class PromptTooLongException(int tokenCount, int maxLength)
    : Flux2Exception($"the prompt is {tokenCount} tokens after templating, more than the maximum of {maxLength}; shorten it or allow truncation")
{
    public int TokenCount { get; } = tokenCount;
    public int MaxLength { get; } = maxLength;
}
