namespace Flux2.Text;

/// <summary>A prompt ready for the text encoder: ids and attention mask of the same length (1 = real token, 0 = pad).</summary>
public sealed class TokenizedPrompt
{
    public TokenizedPrompt(long[] inputIds, long[] attentionMask, int tokenCount)
    {
        if (inputIds.Length != attentionMask.Length)
            throw new ArgumentException($"{inputIds.Length} ids but {attentionMask.Length} mask entries");
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenCount = tokenCount;
    }

    public long[] InputIds { get; }

    public long[] AttentionMask { get; }

    /// <summary>Tokens of the templated prompt before truncation.</summary>
    public int TokenCount { get; }

    /// <summary>Tokens kept (mask ones).</summary>
    public int RealTokenCount => Math.Min(TokenCount, InputIds.Length);

    public bool Truncated => TokenCount > InputIds.Length;

    /// <summary>The warning to show when the prompt was cut, else null.</summary>
    public string? Warning => Truncated
        ? $"the prompt is {TokenCount} tokens after templating; only the first {InputIds.Length} are used (strict mode rejects such prompts)"
        : null;
}
