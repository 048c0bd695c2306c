using Flux2.Core.SafeTensors;

namespace Flux2.Core.Quantization;

/// <summary>
/// Builds a <see cref="LinearWeight"/> over a checkpoint tensor, left in its stored format (no copy).
/// The format is decided from the tensor's dtype and its sibling scale tensors (spec §4.7).
/// </summary>
public static class LinearWeightLoader
{
    /// <param name="weightName">the full tensor name, ending in ".weight"</param>
    public static LinearWeight Load(SafeTensorsCheckpoint checkpoint, string weightName)
    {
        var view = checkpoint.Get(weightName);
        if (view.Shape.Length != 2)
            throw new SafeTensorsException(view.FilePath, weightName, $"a Linear weight must be 2-D [out, in], found {view.Info.ShapeText}");
        int rows = checked((int)view.Shape[0]);
        int cols = checked((int)view.Shape[1]);
        var format = view.DType switch
        {
            DType.Float32 => WeightFormat.Float32,
            DType.BFloat16 => WeightFormat.BFloat16,
            DType.Float16 => WeightFormat.Float16,
            _ => throw new SafeTensorsException(view.FilePath, weightName,
                $"dtype {view.DType.SafetensorsName()} is not a supported Linear weight format (expected F32, BF16 or F16)"),
        };
        return new LinearWeight(weightName, rows, cols, format, view.Data, checkpoint);
    }
}
