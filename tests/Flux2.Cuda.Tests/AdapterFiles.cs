using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using Flux2.Tests;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>Random adapter files for a BFL-named checkpoint: a rank-2 LoRA on every Linear (ai-toolkit keys), a LoHa of ranks
/// 2 × 2 on the single blocks and a LoKr of 4 × 4 blocks (a whole first half, a rank-3 second pair, alpha 3) on the double
/// blocks (LyCORIS keys).</summary>
internal static class AdapterFiles
{
    public static LoraFile[] Write(string checkpoint, TempDirectory dir)
    {
        var lora = new SafeTensorsWriter();
        var lycoris = new SafeTensorsWriter();
        int seed = 100;
        float[] Values(int count) => Random(count, seed++, 0.1f);
        using (var file = SafeTensorsFile.Open(checkpoint))
        {
            foreach (var name in file.Names.Where(n => n.EndsWith(".weight", StringComparison.Ordinal) && file.Get(n).Shape.Length == 2))
            {
                var module = name[..^".weight".Length];
                int outFeatures = checked((int)file.Get(name).Shape[0]), inFeatures = checked((int)file.Get(name).Shape[1]);
                lora.AddFloat32($"diffusion_model.{module}.lora_A.weight", [2, inFeatures], Values(2 * inFeatures));
                lora.AddFloat32($"diffusion_model.{module}.lora_B.weight", [outFeatures, 2], Values(outFeatures * 2));
                var stem = "lycoris_" + module.Replace('.', '_');
                if (module.StartsWith("single_blocks.", StringComparison.Ordinal))
                {
                    lycoris.AddFloat32($"{stem}.hada_w1_a", [outFeatures, 2], Values(outFeatures * 2));
                    lycoris.AddFloat32($"{stem}.hada_w1_b", [2, inFeatures], Values(2 * inFeatures));
                    lycoris.AddFloat32($"{stem}.hada_w2_a", [outFeatures, 2], Values(outFeatures * 2));
                    lycoris.AddFloat32($"{stem}.hada_w2_b", [2, inFeatures], Values(2 * inFeatures));
                }
                else if (module.StartsWith("double_blocks.", StringComparison.Ordinal))
                {
                    lycoris.AddFloat32($"{stem}.lokr_w1", [4, 4], Values(16));
                    lycoris.AddFloat32($"{stem}.lokr_w2_a", [outFeatures / 4, 3], Values(outFeatures / 4 * 3));
                    lycoris.AddFloat32($"{stem}.lokr_w2_b", [3, inFeatures / 4], Values(3 * inFeatures / 4));
                    lycoris.AddFloat32($"{stem}.alpha", [], [3f]);
                }
            }
        }
        string loraPath = dir.File("lora.safetensors"), lycorisPath = dir.File("lycoris.safetensors");
        lora.Write(loraPath);
        lycoris.Write(lycorisPath);
        return [new LoraFile(loraPath), new LoraFile(lycorisPath, 4f)];
    }
}
