using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Pipelines;

/// <summary>
/// One prompt as the transformer sees it, on the backend the transformer runs on: the stacked text-encoder features
/// [1, L, joint_attention_dim] (L = 512 for encoded prompts; Float32 or the backend's activation type) and their position
/// ids Int64 [L, 4] = (0, 0, 0, i). Owns both tensors.
/// </summary>
public sealed class PromptEmbedding : IDisposable
{
    private readonly Tensor _ownedTextIds;

    public Tensor Embeddings { get; }
    public Tensor TextIds { get; }

    public int Length => Embeddings.Shape[1];
    public int Features => Embeddings.Shape[2];

    /// <param name="embeddings">[1, L, features] allocated by <paramref name="backend"/>; ownership passes to this object</param>
    /// <param name="textIds">Int64 [L, 4] or [1, L, 4] of <paramref name="backend"/>; default (0, 0, 0, i); ownership passes to this object</param>
    public PromptEmbedding(IBackend backend, Tensor embeddings, Tensor? textIds = null)
    {
        if (embeddings.DType != DType.Float32 && embeddings.DType != backend.ActivationDType || embeddings.Rank != 3 || embeddings.Shape[0] != 1 || embeddings.Shape[1] < 1)
            throw new PipelineException($"prompt embeddings must be Float32 [1, length, features], found {embeddings.DType} {embeddings.ShapeText}");
        int length = embeddings.Shape[1];
        textIds ??= backend.Upload<long>(LatentIds.Text(length), length, 4);
        if (textIds.DType != DType.Int64 || textIds.Length != length * 4L || textIds.Shape[^1] != 4)
            throw new PipelineException($"text ids must be Int64 [{length}, 4] to match the prompt embeddings, found {textIds.DType} {textIds.ShapeText}");
        Embeddings = embeddings;
        _ownedTextIds = textIds;
        TextIds = textIds.Rank == 2 ? textIds : textIds.Reshape(length, 4);
    }

    /// <summary>Embeddings computed elsewhere (a file, another process), uploaded to <paramref name="backend"/>.</summary>
    /// <param name="embeddings">[1, length, features] row-major</param>
    /// <param name="textIds">[length, 4] row-major, or empty for the default (0, 0, 0, i)</param>
    public static PromptEmbedding Upload(IBackend backend, ReadOnlySpan<float> embeddings, int length, int features, ReadOnlySpan<long> textIds = default)
    {
        if (length < 1 || features < 1 || embeddings.Length != (long)length * features)
            throw new PipelineException($"prompt embeddings of {embeddings.Length} values do not fill [1, {length}, {features}]");
        if (!textIds.IsEmpty && textIds.Length != length * 4L)
            throw new PipelineException($"text ids must be Int64 [{length}, 4] to match the prompt embeddings, found {textIds.Length} values");
        var e = backend.Upload(embeddings, 1, length, features);
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
        Embeddings.Dispose();
        _ownedTextIds.Dispose();
    }
}
