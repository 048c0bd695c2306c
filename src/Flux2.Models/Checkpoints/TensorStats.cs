using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Checkpoints;

public sealed record DTypeTotal(DType DType, int Count, long Bytes);

/// <summary>How many tensors a component holds and how its bytes split by dtype.</summary>
public sealed record TensorStats(int Count, long Bytes, IReadOnlyList<DTypeTotal> ByDType)
{
    public static TensorStats Of(IEnumerable<TensorInfo> tensors)
    {
        var list = tensors.ToList();
        var byDType = list.GroupBy(t => t.DType)
            .Select(g => new DTypeTotal(g.Key, g.Count(), g.Sum(t => t.ByteLength)))
            .OrderByDescending(d => d.Bytes).ThenBy(d => d.DType)
            .ToList();
        return new TensorStats(list.Count, list.Sum(t => t.ByteLength), byDType);
    }
}
