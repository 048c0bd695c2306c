using Flux2.Core;

namespace Flux2.Models.Checkpoints;

/// <summary>A tensor a checkpoint must (or, when <see cref="Optional"/>, may) hold, with every shape and dtype it may have.</summary>
public sealed record TensorRequirement(string Name, IReadOnlyList<long[]> Shapes, IReadOnlyList<DType> DTypes, bool Optional = false)
{
    /// <summary>The dtypes of unquantized weights.</summary>
    public static IReadOnlyList<DType> FloatDTypes { get; } = [DType.BFloat16, DType.Float16, DType.Float32];

    /// <summary>A per-tensor scale: an F32 scalar, stored with shape [] or [1].</summary>
    public static TensorRequirement Scalar(string name, bool optional = false) => new(name, [[], [1]], [DType.Float32], optional);

    public string ShapesText => string.Join(" or ", Shapes.Select(ShapeText));

    public string DTypesText => string.Join(" or ", DTypes.Select(d => d.SafetensorsName()).Distinct());

    public static string ShapeText(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
