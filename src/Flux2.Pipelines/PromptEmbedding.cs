using Flux2.Core;

namespace Flux2.Pipelines;

/// <summary>
/// One prompt as the transformer sees it: the stacked text-encoder features [1, L, joint_attention_dim] (L = 512 for
/// encoded prompts) and their position ids [L, 4] = (0, 0, 0, i). Owns both tensors.
/// </summary>
public sealed class PromptEmbedding : IDisposable
{
    private readonly Tensor _ownedTextIds;

    public Tensor Embeddings { get; }
    public Tensor TextIds { get; }

    public int Length => Embeddings.Shape[1];
    public int Features => Embeddings.Shape[2];

    /// <param name="embeddings">Float32 [1, L, features]; ownership passes to this object</param>
    /// <param name="textIds">Int64 [L, 4] or [1, L, 4]; default (0, 0, 0, i); ownership passes to this object</param>
    public PromptEmbedding(Tensor embeddings, Tensor? textIds = null)
    {
        if (embeddings.DType != DType.Float32 || embeddings.Rank != 3 || embeddings.Shape[0] != 1 || embeddings.Shape[1] < 1)
            throw new PipelineException($"prompt embeddings must be Float32 [1, length, features], found {embeddings.DType} {embeddings.ShapeText}");
        int length = embeddings.Shape[1];
        textIds ??= Tensor.FromArray(LatentIds.Text(length), length, 4);
        if (textIds.DType != DType.Int64 || textIds.Length != length * 4L || textIds.Shape[^1] != 4)
            throw new PipelineException($"text ids must be Int64 [{length}, 4] to match the prompt embeddings, found {textIds.DType} {textIds.ShapeText}");
        Embeddings = embeddings;
        _ownedTextIds = textIds;
        TextIds = textIds.Rank == 2 ? textIds : textIds.Reshape(length, 4);
    }

    public void Dispose()
    {
        Embeddings.Dispose();
        _ownedTextIds.Dispose();
    }
}
