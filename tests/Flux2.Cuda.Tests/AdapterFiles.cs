using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using Flux2.Tests;
using static Flux2.Cuda.Tests.GpuComparison;

namespace Flux2.Cuda.Tests;

/// <summary>Random adapter files for a BFL-named checkpoint: a rank-2 LoRA on every Linear (ai-toolkit keys), a LoHa of ranks
/// 2 × 2 on the single blocks and a LoKr of 4 × 4 blocks (a whole first half, a rank-3 second pair, alpha 3) on the double
/// blocks (LyCORIS keys), and DoRA modules (LyCORIS keys with <c>dora_scale</c>) on every Linear: a LoKr of 4 × 4 whole
/// blocks on the double blocks, a rank-2 LoRA elsewhere.</summary>
internal static class AdapterFiles
{
    public static LoraFile[] Write(string checkpoint, TempDirectory dir)
    {
        var lora = new SafeTensorsWriter();
        var lycoris = new SafeTensorsWriter();
        var dora = new SafeTensorsWriter();
        int seed = 100;
        float[] Values(int count) => Random(count, seed++, 0.1f);
        using (var file = SafeTensorsFile.Open(checkpoint))
        {
            foreach (var name in file.Names.Where(n => n.EndsWith(".weight", StringComparison.Ordinal) && file.Get(n).Shape.Length == 2))
            {
                var module = name[..^".weight".Length];
                int outFeatures = checked((int)file.Get(name).Shape[0]), inFeatures = checked((int)file.Get(name).Shape[1]);
                var stem = "lycoris_" + module.Replace('.', '_');
                lora.AddFloat32($"diffusion_model.{module}.lora_A.weight", [2, inFeatures], Values(2 * inFeatures));
                lora.AddFloat32($"diffusion_model.{module}.lora_B.weight", [outFeatures, 2], Values(outFeatures * 2));
                if (module.StartsWith("double_blocks.", StringComparison.Ordinal))
                {
                    dora.AddFloat32($"{stem}.lokr_w1", [4, 4], Values(16));
                    dora.AddFloat32($"{stem}.lokr_w2", [outFeatures / 4, inFeatures / 4], Values(outFeatures / 4 * inFeatures / 4));
                }
                else
                {
                    dora.AddFloat32($"{stem}.lora_down.weight", [2, inFeatures], Values(2 * inFeatures));
                    dora.AddFloat32($"{stem}.lora_up.weight", [outFeatures, 2], Values(outFeatures * 2));
                }
                dora.AddFloat32($"{stem}.dora_scale", [outFeatures, 1], Magnitudes(file.Get(name).ToFloat32Array(), inFeatures, Values(outFeatures)));
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
        string loraPath = dir.File("lora.safetensors"), lycorisPath = dir.File("lycoris.safetensors"), doraPath = dir.File("dora.safetensors");
        lora.Write(loraPath);
        lycoris.Write(lycorisPath);
        dora.Write(doraPath);
        return [new LoraFile(loraPath), new LoraFile(lycorisPath, 4f), new LoraFile(doraPath, 0.8f)];
    }

    /// <summary>DoRA magnitudes as training leaves them: each row's norm of <paramref name="weight"/> [out, in] moved by up to
    /// ±20 % (<paramref name="noise"/> is within ±0.1).</summary>
    private static float[] Magnitudes(float[] weight, int inFeatures, float[] noise) =>
        noise.Select((n, row) => (1 + 2 * n) * MathF.Sqrt(weight.AsSpan(row * inFeatures, inFeatures).ToArray().Sum(v => v * v))).ToArray();
}
