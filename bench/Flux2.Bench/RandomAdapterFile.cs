using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Core.SafeTensors;
using Flux2.Models;
using Flux2.Models.Transformer;

namespace Flux2.Bench;

/// <summary>A random adapter over every Linear of the transformer blocks, as trainers write them for FLUX.2 (BFL module names,
/// BF16): <c>lora:R</c> a rank-R LoRA, <c>dora:R</c> the same with DoRA magnitudes (<c>dora_scale</c> [out, 1] near 1, the
/// bench weights' row norms), <c>loha:R</c> a LyCORIS LoHa of ranks R × R, <c>lokr:F</c> a LyCORIS LoKr with a whole F × F
/// first half and a whole second half (SimpleTuner's default form, factor F dividing every dimension).</summary>
internal static class RandomAdapterFile
{
    public static void Write(Flux2Config config, string spec, string path)
    {
        var parts = spec.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[1], out int size) || size < 1 || parts[0] is not ("lora" or "dora" or "loha" or "lokr"))
            throw new ArgumentException($"--adapter {spec}: expected lora:RANK, dora:RANK, loha:RANK or lokr:FACTOR");
        var random = new Random(5);
        ushort[] Values(long count) =>
            Enumerable.Range(0, checked((int)count)).Select(_ => BFloat16Bits.FromFloat((random.NextSingle() * 2 - 1) * 0.01f)).ToArray();
        var writer = new SafeTensorsWriter();
        foreach (var tensor in Flux2WeightMap.ExpectedTensors(config, TensorNaming.Bfl))
        {
            if (tensor.Shape.Length != 2 || !(tensor.Name.StartsWith("double_blocks.", StringComparison.Ordinal) ||
                tensor.Name.StartsWith("single_blocks.", StringComparison.Ordinal))) continue;
            long outFeatures = tensor.Shape[0], inFeatures = tensor.Shape[1];
            var module = tensor.Name[..^".weight".Length];
            string stem = "lycoris_" + module.Replace('.', '_');
            void Add(string name, long rows, long columns) => writer.Add(name, DType.BFloat16, [rows, columns], Values(rows * columns));
            switch (parts[0])
            {
                case "lora" or "dora":
                    Add($"diffusion_model.{module}.lora_A.weight", size, inFeatures);
                    Add($"diffusion_model.{module}.lora_B.weight", outFeatures, size);
                    if (parts[0] == "dora")
                        writer.Add($"diffusion_model.{module}.dora_scale", DType.BFloat16, [outFeatures, 1],
                            Enumerable.Range(0, checked((int)outFeatures)).Select(_ => BFloat16Bits.FromFloat(1 + (random.NextSingle() * 2 - 1) * 0.1f)).ToArray());
                    break;
                case "loha":
                    Add($"{stem}.hada_w1_a", outFeatures, size);
                    Add($"{stem}.hada_w1_b", size, inFeatures);
                    Add($"{stem}.hada_w2_a", outFeatures, size);
                    Add($"{stem}.hada_w2_b", size, inFeatures);
                    break;
                default:
                    if (outFeatures % size != 0 || inFeatures % size != 0)
                        throw new ArgumentException($"--adapter {spec}: {size} does not divide {module}'s [{outFeatures}, {inFeatures}]");
                    Add($"{stem}.lokr_w1", size, size);
                    Add($"{stem}.lokr_w2", outFeatures / size, inFeatures / size);
                    break;
            }
        }
        writer.Write(path);
    }
}
