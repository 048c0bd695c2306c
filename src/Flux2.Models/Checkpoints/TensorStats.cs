using Flux2.Core.SafeTensors;

namespace Flux2.Models.Checkpoints;

/// <param name="DType">the stored type's name: a safetensors dtype ("BF16") or a GGUF block type ("Q4_K")</param>
public sealed record DTypeTotal(string DType, int Count, long Bytes);

/// <summary>How many tensors a component holds and how its bytes split by dtype.</summary>
public sealed record TensorStats(int Count, long Bytes, IReadOnlyList<DTypeTotal> ByDType)
{
    public static TensorStats Of(IEnumerable<TensorInfo> tensors)
    {
        var list = tensors.ToList();
        var byDType = list.GroupBy(t => t.StoredTypeName)
            .Select(g => new DTypeTotal(g.Key, g.Count(), g.Sum(t => t.ByteLength)))
            .OrderByDescending(d => d.Bytes).ThenBy(d => d.DType, StringComparer.Ordinal)
            .ToList();
        return new TensorStats(list.Count, list.Sum(t => t.ByteLength), byDType);
    }
}
