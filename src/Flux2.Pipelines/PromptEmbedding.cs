using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Pipelines;

/// <summary>
/// One or more prompts as the transformer sees them, on the backend the transformer runs on: the stacked text-encoder
/// features [B, L, joint_attention_dim] of B prompts (L = 512 for encoded prompts; Float32 or the backend's activation
/// type) and their shared position ids Int64 [L, 4] = (0, 0, 0, i). Owns both tensors, except the one-prompt views
/// <see cref="Select"/> returns.
/// </summary>
public sealed class PromptEmbedding : IDisposable
{
    private readonly Tensor? _ownedTextIds;

    public Tensor Embeddings { get; }
    public Tensor TextIds { get; }

    /// <summary>Prompts B.</summary>
    public int Count => Embeddings.Shape[0];
    public int Length => Embeddings.Shape[1];
    public int Features => Embeddings.Shape[2];

    /// <param name="embeddings">[B, L, features] allocated by <paramref name="backend"/>; ownership passes to this object</param>
    /// <param name="textIds">Int64 [L, 4] or [1, L, 4] of <paramref name="backend"/>; default (0, 0, 0, i); ownership passes to this object</param>
    public PromptEmbedding(IBackend backend, Tensor embeddings, Tensor? textIds = null)
    {
        if (embeddings.DType != DType.Float32 && embeddings.DType != backend.ActivationDType || embeddings.Rank != 3 || embeddings.Shape[0] < 1 || embeddings.Shape[1] < 1)
            throw new PipelineException($"prompt embeddings must be Float32 [prompts, length, features], found {embeddings.DType} {embeddings.ShapeText}");
        int length = embeddings.Shape[1];
        textIds ??= backend.Upload<long>(LatentIds.Text(length), length, 4);
        if (textIds.DType != DType.Int64 || textIds.Length != length * 4L || textIds.Shape[^1] != 4)
            throw new PipelineException($"text ids must be Int64 [{length}, 4] to match the prompt embeddings, found {textIds.DType} {textIds.ShapeText}");
        Embeddings = embeddings;
        _ownedTextIds = textIds;
        TextIds = textIds.Rank == 2 ? textIds : textIds.Reshape(length, 4);
    }

    private PromptEmbedding(Tensor embeddings, Tensor textIds)
    {
        Embeddings = embeddings;
        TextIds = textIds;
    }

    /// <summary>Prompt <paramref name="index"/> as a one-prompt view [1, L, features] of these tensors (disposing it frees nothing).</summary>
    public PromptEmbedding Select(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return Count == 1 ? new PromptEmbedding(Embeddings, TextIds) : new PromptEmbedding(Embeddings.Slice0(index, 1), TextIds);
    }

    /// <summary>One-prompt embeddings <paramref name="rows"/> ([1, L, features] each) copied into one batch [n, L, features], the
    /// prompts of images denoised together. The rows must share their text ids (rows of one embedding, or encoded prompts,
    /// whose ids are the default); the batch takes the first row's.</summary>
    public static PromptEmbedding Stack(IBackend backend, IReadOnlyList<PromptEmbedding> rows)
    {
        ArgumentOutOfRangeException.ThrowIfZero(rows.Count);
        var first = rows[0];
        foreach (var row in rows)
            if (row.Count != 1 || row.Length != first.Length || row.Features != first.Features || row.Embeddings.DType != first.Embeddings.DType)
                throw new ArgumentException($"prompt rows {row.Embeddings.ShapeText} {row.Embeddings.DType} cannot be stacked with " +
                    $"{first.Embeddings.ShapeText} {first.Embeddings.DType}", nameof(rows));
        var embeddings = backend.Allocate(first.Embeddings.DType, rows.Count, first.Length, first.Features);
        Tensor? textIds = null;
        try
        {
            for (int i = 0; i < rows.Count; i++) backend.Copy(rows[i].Embeddings, embeddings.Slice0(i, 1));
            textIds = backend.Allocate(DType.Int64, first.Length, 4);
            backend.Copy(first.TextIds, textIds);
            return new PromptEmbedding(backend, embeddings, textIds);
        }
        catch
        {
            textIds?.Dispose();
            embeddings.Dispose();
            throw;
        }
    }

    /// <summary>Embeddings computed elsewhere (a file, another process), uploaded to <paramref name="backend"/>.</summary>
    /// <param name="embeddings">[prompts, length, features] row-major</param>
    /// <param name="textIds">[length, 4] row-major, or empty for the default (0, 0, 0, i)</param>
    public static PromptEmbedding Upload(IBackend backend, ReadOnlySpan<float> embeddings, int length, int features, ReadOnlySpan<long> textIds = default)
    {
        long perPrompt = (long)length * features;
        if (length < 1 || features < 1 || embeddings.Length == 0 || embeddings.Length % perPrompt != 0)
            throw new PipelineException($"prompt embeddings of {embeddings.Length} values do not fill [prompts, {length}, {features}]");
        if (!textIds.IsEmpty && textIds.Length != length * 4L)
            throw new PipelineException($"text ids must be Int64 [{length}, 4] to match the prompt embeddings, found {textIds.Length} values");
        var e = backend.Upload(embeddings, checked((int)(embeddings.Length / perPrompt)), length, features);
        try
        {
            return new PromptEmbedding(backend, e, textIds.IsEmpty ? null : backend.Upload(textIds, length, 4));
        }
        catch
        {
            e.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_ownedTextIds == null) return; // a view of another embedding's tensors
        Embeddings.Dispose();
        _ownedTextIds.Dispose();
    }
}
