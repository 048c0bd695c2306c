using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Checkpoints;

/// <summary>The tensors one Linear needs in the form a checkpoint stores it (spec §5.1, §5.7): its weight and, when
/// quantized, its scales. Shared by every component whose Linears may be quantized.</summary>
public static class LinearRequirements
{
    /// <summary>How the Linear whose weight tensor is <paramref name="weightName"/> is stored, told by the weight's dtype
    /// and its sibling scale names (a missing weight counts as float: it is reported missing as such).</summary>
    public static LinearStorage StorageOf(IReadOnlyDictionary<string, TensorInfo> tensors, string weightName)
    {
        if (!tensors.TryGetValue(weightName, out var t)) return LinearStorage.Float;
        if (t.StoredType != null) return LinearStorage.GgmlBlocks;
        string stem = Stem(weightName);
        return t.DType switch
        {
            DType.UInt8 => LinearStorage.Nvfp4,
            DType.Float8E4M3 when !tensors.ContainsKey(stem + ".weight_scale") && tensors.ContainsKey(stem + ".scale_weight") => LinearStorage.Fp8LegacyScaleNames,
            DType.Float8E4M3 => LinearStorage.Fp8,
            _ => LinearStorage.Float,
        };
    }

    /// <param name="weightName">the weight tensor's name, ending in ".weight"</param>
    /// <param name="shape">the logical weight shape [out, in]</param>
    public static IEnumerable<TensorRequirement> For(string weightName, long[] shape, LinearStorage storage)
    {
        // A GGUF block tensor's dtype is that of its decoded values, F32.
        if (storage is LinearStorage.Float or LinearStorage.GgmlBlocks) return [new(weightName, [shape], TensorRequirement.FloatDTypes)];
        string stem = Stem(weightName);
        long n = shape[0], k = shape[1];
        if (storage == LinearStorage.Nvfp4)
        {
            long blocks = k / Nvfp4Quantizer.BlockSize;
            long[] logical = [n, blocks], padded = [(n + 127) / 128 * 128, (blocks + 3) / 4 * 4];
            return
            [
                new(weightName, [[n, k / 2]], [DType.UInt8]),
                new(stem + ".weight_scale", logical.AsSpan().SequenceEqual(padded) ? [logical] : [logical, padded], [DType.Float8E4M3]),
                TensorRequirement.Scalar(stem + ".weight_scale_2"),
                TensorRequirement.Scalar(stem + ".input_scale", optional: true),
            ];
        }
        bool legacy = storage == LinearStorage.Fp8LegacyScaleNames;
        return
        [
            new(weightName, [shape], [DType.Float8E4M3]),
            TensorRequirement.Scalar(stem + (legacy ? ".scale_weight" : ".weight_scale")),
            TensorRequirement.Scalar(stem + (legacy ? ".scale_input" : ".input_scale"), optional: true),
        ];
    }

    private static string Stem(string weightName) =>
        weightName.EndsWith(".weight", StringComparison.Ordinal) ? weightName[..^".weight".Length] : weightName;
}
