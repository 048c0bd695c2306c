using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;

namespace Flux2.Core.Quantization;

/// <summary>
/// Builds a <see cref="LinearWeight"/> over a checkpoint tensor, left in its stored format (no copy: quantized
/// weights are only decoded inside the GEMM's panel packing). The format is decided per Linear from the
/// tensor's dtype and its sibling scale tensors (spec §4.7):
/// U8 weight + F8_E4M3 <c>.weight_scale</c> (+ F32 scalar <c>.weight_scale_2</c>) → NVFP4;
/// F8_E4M3 weight + F32 scalar <c>.weight_scale</c> (or ComfyUI's <c>.scale_weight</c>) → FP8; F32/BF16/F16 → float;
/// a GGUF tensor of ggml blocks (Q4_0 … Q6_K) → its blocks.
/// An <c>.input_scale</c> (W4A4 / W8A8 activation scale) is ignored: weights are dequantized, activations stay fp32.
/// </summary>
public static class LinearWeightLoader
{
    /// <param name="weightName">the full tensor name, ending in ".weight"</param>
    public static LinearWeight Load(SafeTensorsCheckpoint checkpoint, string weightName)
    {
        var view = checkpoint.GetStored(weightName);
        if (view.Shape.Length != 2)
            throw new SafeTensorsException(view.FilePath, weightName, $"a Linear weight must be 2-D [out, in], found {view.Info.ShapeText}");
        int rows = checked((int)view.Shape[0]);
        int cols = checked((int)view.Shape[1]);
        string stem = weightName.EndsWith(".weight", StringComparison.Ordinal) ? weightName[..^".weight".Length] : weightName;
        if (view.Info.StoredType is { } blocks) return LoadGgml(checkpoint, view, blocks, rows, cols);
        return view.DType switch
        {
            DType.Float32 => new LinearWeight(weightName, rows, cols, WeightFormat.Float32, view.Data, checkpoint),
            DType.BFloat16 => new LinearWeight(weightName, rows, cols, WeightFormat.BFloat16, view.Data, checkpoint),
            DType.Float16 => new LinearWeight(weightName, rows, cols, WeightFormat.Float16, view.Data, checkpoint),
            DType.UInt8 => LoadNvfp4(checkpoint, view, stem, rows, cols),
            DType.Float8E4M3 => LoadFp8(checkpoint, view, stem, rows, cols),
            _ => throw new SafeTensorsException(view.FilePath, weightName,
                $"dtype {view.DType.SafetensorsName()} is not a supported Linear weight format (expected F32, BF16, F16, F8_E4M3 + scale, or U8 NVFP4 + scales)"),
        };
    }

    private static LinearWeight LoadGgml(SafeTensorsCheckpoint checkpoint, TensorView weight, GgmlType type, int rows, int cols)
    {
        // A GGUF file's own check covers ne[0], the stored row; ComfyUI-GGUF's orig_shape can give rows that cut blocks.
        GgmlTypeInfo.TryGetLayout(type, out int blockElements, out _);
        if (cols % blockElements != 0)
            throw new SafeTensorsException(weight.FilePath, weight.Name,
                $"{GgmlTypeInfo.Name(type)} weight {weight.Info.ShapeText}: rows of {cols} are not whole blocks of {blockElements}");
        return new LinearWeight(weight.Name, rows, cols, WeightFormat.GgmlBlocks, weight.Data, checkpoint, blockType: type);
    }

    private static LinearWeight LoadNvfp4(SafeTensorsCheckpoint checkpoint, TensorView weight, string stem, int rows, int packedCols)
    {
        string scaleName = stem + ".weight_scale";
        if (!checkpoint.TryGet(scaleName, out var scale))
            throw new SafeTensorsException(weight.FilePath, weight.Name,
                $"U8 weight without '{scaleName}': an NVFP4 weight needs its F8_E4M3 block scales");
        if (scale.DType != DType.Float8E4M3)
            throw new SafeTensorsException(scale.FilePath, scaleName,
                $"NVFP4 block scales must be F8_E4M3, found {scale.DType.SafetensorsName()}");
        int cols = checked(packedCols * 2);
        if (cols % Nvfp4Quantizer.BlockSize != 0)
            throw new SafeTensorsException(weight.FilePath, weight.Name,
                $"NVFP4 weight [{rows}, {packedCols}] packs {cols} input features, not a multiple of {Nvfp4Quantizer.BlockSize}");
        int blocks = cols / Nvfp4Quantizer.BlockSize;
        var (swizzled, storedBlocks) = ScaleLayout(scale, rows, blocks);
        float tensorScale = ReadScalar(checkpoint, weight, stem + ".weight_scale_2", "NVFP4 per-tensor scale");
        return new LinearWeight(weight.Name, rows, cols, WeightFormat.Nvfp4, weight.Data, checkpoint,
            blockScales: scale.Data, scalesSwizzled: swizzled, scaleColumns: storedBlocks, tensorScale: tensorScale);
    }

    /// <summary>[N, KB] is swizzled exactly when the shape allows it (as MAX decides); a shape padded to
    /// [roundup(N, 128), roundup(KB, 4)] can only be the swizzled layout.</summary>
    private static (bool Swizzled, int StoredBlocks) ScaleLayout(TensorView scale, int rows, int blocks)
    {
        long paddedRows = (rows + 127L) / 128 * 128, paddedBlocks = (blocks + 3L) / 4 * 4;
        if (scale.Shape.Length == 2 && scale.Shape[0] == rows && scale.Shape[1] == blocks)
            return (Nvfp4ScaleLayout.IsSwizzleable(rows, blocks), blocks);
        if (scale.Shape.Length == 2 && scale.Shape[0] == paddedRows && scale.Shape[1] == paddedBlocks)
            return (true, (int)paddedBlocks);
        throw new SafeTensorsException(scale.FilePath, scale.Name,
            $"NVFP4 block scales must be [{rows}, {blocks}] (or padded [{paddedRows}, {paddedBlocks}]), found {scale.Info.ShapeText}");
    }

    private static LinearWeight LoadFp8(SafeTensorsCheckpoint checkpoint, TensorView weight, string stem, int rows, int cols)
    {
        string scaleName = checkpoint.Contains(stem + ".weight_scale") || !checkpoint.Contains(stem + ".scale_weight")
            ? stem + ".weight_scale"
            : stem + ".scale_weight";
        float tensorScale = ReadScalar(checkpoint, weight, scaleName, "FP8 per-tensor scale");
        return new LinearWeight(weight.Name, rows, cols, WeightFormat.Fp8E4M3, weight.Data, checkpoint, tensorScale: tensorScale);
    }

    private static float ReadScalar(SafeTensorsCheckpoint checkpoint, TensorView weight, string name, string what)
    {
        // Using a quantized weight without its scale gives a noise image and no error: refuse to.
        if (!checkpoint.TryGet(name, out var view))
            throw new SafeTensorsException(weight.FilePath, weight.Name,
                $"{weight.DType.SafetensorsName()} weight without its {what} '{name}' (a quantized weight is never used unscaled)");
        if (view.DType != DType.Float32 || view.ElementCount != 1 || view.Shape.Length > 1)
            throw new SafeTensorsException(view.FilePath, name, $"the {what} must be an F32 scalar, found {view.DType.SafetensorsName()} {view.Info.ShapeText}");
        float value = view.AsSpan<float>()[0];
        if (!float.IsFinite(value))
            throw new SafeTensorsException(view.FilePath, name, $"the {what} is {value}, expected a finite number");
        return value;
    }
}
