using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Lora;

/// <summary>Seeded random LoHa and LoKr files for the tiny klein: roles left out, shapes near and far from the layer's, every
/// dtype, non-finite and huge values, alphas and DoRA magnitudes of any shape, kinds mixed on one module. Each loads and runs
/// a forward pass, or is refused with a <see cref="LoraException"/>; nothing else.</summary>
public class LycorisFuzzTests
{
    private const int Files = 200;

    private static readonly LoraTensorRole[] Loha = [LoraTensorRole.HadaW1A, LoraTensorRole.HadaW1B, LoraTensorRole.HadaW2A, LoraTensorRole.HadaW2B];
    private static readonly LoraTensorRole[] Lokr =
        [LoraTensorRole.LokrW1, LoraTensorRole.LokrW1A, LoraTensorRole.LokrW1B, LoraTensorRole.LokrW2, LoraTensorRole.LokrW2A, LoraTensorRole.LokrW2B];

    [Fact]
    public void RandomAdaptersLoadAndRunOrAreRefusedByName()
    {
        using var golden = new TransformerGolden("tiny_klein");
        using var model = golden.LoadOnBackend("tiny_klein.bfl.safetensors");
        var targets = LoraTargets.For(model.Config, model.Naming);
        var modules = targets.Modules.Where(m => !m.Contains("to_", StringComparison.Ordinal) || m.Contains("attn", StringComparison.Ordinal)).ToArray();
        using var dir = new TempDirectory();
        var rng = new Random(20261208);
        int loaded = 0, refused = 0;
        for (int f = 0; f < Files; f++)
        {
            var path = dir.File($"fuzz{f}.safetensors");
            var w = new SafeTensorsWriter();
            foreach (var module in modules.OrderBy(_ => rng.Next()).Take(rng.Next(1, 4)))
            {
                var target = targets.Find(module)!;
                AddModule(w, rng, module.Replace('.', '_'), target.OutFeatures, target.InFeatures);
            }
            w.Write(path);
            try
            {
                var set = LoraSet.Load([new LoraFile(path, (float)(rng.NextDouble() * 4 - 2))], model.Config, model.Naming, lenient: rng.Next(2) == 0);
                model.UseLoras(set);
                golden.Run(model).Dispose();
                loaded++;
            }
            catch (LoraException)
            {
                refused++;
            }
        }
        model.UseLoras(null);
        // Both outcomes are common, so neither the loading nor the checks were skipped.
        Assert.True(loaded > Files / 10 && refused > Files / 10, $"{loaded} loaded, {refused} refused");
    }

    private static void AddModule(SafeTensorsWriter w, Random rng, string module, int outFeatures, int inFeatures)
    {
        var stem = (rng.Next(3) switch { 0 => "lycoris_", 1 => "lora_unet_", _ => "" }) + module;
        int rank = rng.Next(1, 5), factor = new[] { 1, 2, 4, 8 }[rng.Next(4)];
        bool lokr = rng.Next(2) == 0, faulty = rng.Next(3) == 0;
        // A LoKr half is whole or a pair; a faulty module may have both, neither, or a pair's one half.
        bool firstWhole = rng.Next(2) == 0, secondWhole = rng.Next(2) == 0;
        foreach (var role in lokr ? Lokr : Loha)
        {
            bool wanted = role switch
            {
                LoraTensorRole.LokrW1 => firstWhole,
                LoraTensorRole.LokrW1A or LoraTensorRole.LokrW1B => !firstWhole,
                LoraTensorRole.LokrW2 => secondWhole,
                LoraTensorRole.LokrW2A or LoraTensorRole.LokrW2B => !secondWhole,
                _ => true,
            };
            if (faulty && rng.Next(6) == 0) wanted = !wanted;
            if (!wanted) continue;
            var (rows, columns) = role switch
            {
                LoraTensorRole.HadaW1A or LoraTensorRole.HadaW2A => (outFeatures, rank),
                LoraTensorRole.HadaW1B or LoraTensorRole.HadaW2B => (rank, inFeatures),
                LoraTensorRole.LokrW1 => (factor, factor),
                LoraTensorRole.LokrW1A => (factor, rank),
                LoraTensorRole.LokrW1B => (rank, factor),
                LoraTensorRole.LokrW2 => (outFeatures / factor, inFeatures / factor),
                LoraTensorRole.LokrW2A => (outFeatures / factor, rank),
                _ => (rank, inFeatures / factor),
            };
            if (faulty && rng.Next(4) == 0) rows = Perturb(rng, rows);
            if (faulty && rng.Next(4) == 0) columns = Perturb(rng, columns);
            long[] shape = faulty && rng.Next(10) == 0 ? [rows * columns] : [rows, columns];
            Add(w, rng, stem + LoraKey.SuffixOf(role), shape, rows * columns, faulty);
        }
        if (rng.Next(3) == 0)
        {
            bool two = faulty && rng.Next(3) == 0;
            Add(w, rng, $"{stem}.alpha", two ? [2] : [], two ? 2 : 1, faulty);
        }
        if (rng.Next(3) == 0)
        {
            // DoRA magnitudes over the outputs as PEFT and LyCORIS write them; a faulty module's may lie over the inputs or miss.
            long[] shape = rng.Next(faulty ? 4 : 2) switch
            {
                0 => [outFeatures, 1],
                1 => [outFeatures],
                2 => [1, inFeatures],
                _ => [Perturb(rng, outFeatures), 1],
            };
            Add(w, rng, $"{stem}.dora_scale", shape, checked((int)(shape[0] * (shape.Length == 2 ? shape[1] : 1))), faulty);
        }
        if (faulty && rng.Next(4) == 0) Add(w, rng, $"{stem}.lora_down.weight", [rank, inFeatures], rank * inFeatures, faulty);
    }

    private static int Perturb(Random rng, int size) => Math.Max(0, rng.Next(4) switch { 0 => size + 1, 1 => size - 1, 2 => 0, _ => rng.Next(1, 300) });

    /// <summary>Values of ±0.1; a faulty tensor may hold a NaN, an infinity or a huge value, or be integers.</summary>
    private static void Add(SafeTensorsWriter w, Random rng, string name, long[] shape, int count, bool faulty)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(rng.NextDouble() * 0.2 - 0.1);
        if (faulty && count > 0 && rng.Next(4) == 0) values[rng.Next(count)] = new[] { float.NaN, float.PositiveInfinity, 3e38f }[rng.Next(3)];
        switch (rng.Next(faulty ? 5 : 4))
        {
            case 0: w.Add(name, DType.BFloat16, shape, Array.ConvertAll(values, BFloat16Bits.FromFloat)); break;
            case 1: w.Add(name, DType.Float16, shape, Array.ConvertAll(values, v => (Half)v)); break;
            case 2: w.Add(name, DType.Float64, shape, Array.ConvertAll(values, v => (double)v)); break;
            case 3: w.AddFloat32(name, shape, values); break;
            default: w.Add(name, DType.Int64, shape, Array.ConvertAll(values, v => float.IsFinite(v) ? (long)(v * 100) : 0L)); break;
        }
    }
}
