using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>Stored tensors (golden inputs and outputs) copied into activation tensors of the same shape.</summary>
public static class TensorViewCopies
{
    public static Tensor ToFloat32Tensor(this TensorView v) => Tensor.FromArray(v.ToFloat32Array(), Shape(v));

    public static Tensor ToInt64Tensor(this TensorView v) => Tensor.FromArray(v.ToInt64Array(), Shape(v));

    private static int[] Shape(TensorView v) => v.Shape.Select(d => (int)d).ToArray();
}
