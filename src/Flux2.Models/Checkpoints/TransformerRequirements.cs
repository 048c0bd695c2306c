using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Models.Transformer;

namespace Flux2.Models.Checkpoints;

/// <summary>
/// Every tensor a FLUX.2 transformer checkpoint holds, quantized Linears included: the bf16 list of
/// <see cref="Flux2WeightMap.ExpectedTensors"/> with each quantized Linear's weight replaced by its stored form
/// and its scales (spec §5.1, §5.7). The official dev NVFP4 file has 299 + 3·144 = 731 tensors.
/// </summary>
public static class TransformerRequirements
{
    /// <param name="storageOf">how the Linear whose weight tensor has this name is stored</param>
    public static IReadOnlyList<TensorRequirement> For(Flux2Config config, TensorNaming naming, Func<string, LinearStorage> storageOf)
    {
        var list = new List<TensorRequirement>();
        foreach (var e in Flux2WeightMap.ExpectedTensors(config, naming))
        {
            bool linear = e.Shape.Length == 2 && e.Name.EndsWith(".weight", StringComparison.Ordinal);
            var storage = linear ? storageOf(e.Name) : LinearStorage.Float;
            if (storage == LinearStorage.Float)
            {
                list.Add(new(e.Name, [e.Shape], TensorRequirement.FloatDTypes));
                continue;
            }
            string stem = e.Name[..^".weight".Length];
            long n = e.Shape[0], k = e.Shape[1];
            if (storage == LinearStorage.Nvfp4)
            {
                long blocks = k / Nvfp4Quantizer.BlockSize;
                long[] logical = [n, blocks], padded = [(n + 127) / 128 * 128, (blocks + 3) / 4 * 4];
                list.Add(new(e.Name, [[n, k / 2]], [DType.UInt8]));
                list.Add(new(stem + ".weight_scale", logical.AsSpan().SequenceEqual(padded) ? [logical] : [logical, padded], [DType.Float8E4M3]));
                list.Add(TensorRequirement.Scalar(stem + ".weight_scale_2"));
                list.Add(TensorRequirement.Scalar(stem + ".input_scale", optional: true));
            }
            else
            {
                bool legacy = storage == LinearStorage.Fp8LegacyScaleNames;
                list.Add(new(e.Name, [e.Shape], [DType.Float8E4M3]));
                list.Add(TensorRequirement.Scalar(stem + (legacy ? ".scale_weight" : ".weight_scale")));
                list.Add(TensorRequirement.Scalar(stem + (legacy ? ".scale_input" : ".input_scale"), optional: true));
            }
        }
        return list;
    }
}
