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
            list.AddRange(LinearRequirements.For(e.Name, e.Shape, linear ? storageOf(e.Name) : LinearStorage.Float));
        }
        return list;
    }
}
