using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Lora;

/// <summary>LyCORIS LoHa and LoKr modules run beside the layers against their ΔW merged into the weights (an F32 copy): every
/// spelling on both namings (so fused and split projections, and the swapped final modulation, meet LoKr outputs that cross
/// Kronecker blocks), each way a LoKr half is given, the alpha rules, the modules that run as a whole ΔW, quantized bases,
/// LoRA + LoHa + LoKr on the same layers, through the CPU and the opaque backend.</summary>
public class LycorisTransformerTests
{
    private const float Tolerance = 1e-5f;

    public static IEnumerable<object[]> SpellingsAndNamings => SidePathChecks.OnEveryNamingAndBackend<LycorisSpelling>();

    /// <summary>LyCORIS and kohya spell BFL modules here, ComfyUI diffusers ones, so each meets the other naming too.</summary>
    private static string AdapterNaming(LycorisSpelling spelling) => spelling == LycorisSpelling.Comfy ? "diffusers" : "bfl";

    [Theory]
    [MemberData(nameof(SpellingsAndNamings))]
    public void LohaMatchesTheMergedWeights(LycorisSpelling spelling, string naming, string backend)
    {
        var reference = Fixtures.Golden($"tiny_klein.{AdapterNaming(spelling)}.safetensors");
        AssertSidePathMatchesMerge("tiny_klein", $"tiny_klein.{naming}.safetensors", reference, backend, spelling,
            (TestLycoris.Loha(reference, seed: 3, rank1: 2, rank2: 3, alpha: 3), 0.8f));
    }

    [Theory]
    [MemberData(nameof(SpellingsAndNamings))]
    public void LokrMatchesTheMergedWeights(LycorisSpelling spelling, string naming, string backend)
    {
        var reference = Fixtures.Golden($"tiny_dev.{AdapterNaming(spelling)}.safetensors");
        // Whole halves, a first half of 4 × 4 blocks: alpha is ignored when neither half is a pair.
        AssertSidePathMatchesMerge("tiny_dev", $"tiny_dev.{naming}.safetensors", reference, backend, spelling,
            (TestLycoris.Lokr(reference, seed: 7, (_, _) => (4, 4), alpha: 8), -0.7f));
    }

    public static IEnumerable<object[]> LokrHalves =>
        from halves in new[] { "whole-pair", "pair-whole", "pair-pair" }
        from backend in TestBackends.Names
        select new object[] { halves, backend };

    /// <summary>Halves given as pairs (scaled by alpha over the second pair's rank, or the first's when only it is one), with
    /// a first half of 16 × 8 blocks, on the other naming.</summary>
    [Theory]
    [MemberData(nameof(LokrHalves))]
    public void LokrHalvesGivenAsPairs(string halves, string backend)
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        int? firstRank = halves.StartsWith("pair", StringComparison.Ordinal) ? 2 : null;
        int? secondRank = halves.EndsWith("pair", StringComparison.Ordinal) ? 3 : null;
        var lokr = TestLycoris.Lokr(reference, seed: 9, (_, _) => (16, 8), firstRank, secondRank, alpha: 5);
        AssertSidePathMatchesMerge("tiny_klein", "tiny_klein.diffusers.safetensors", reference, backend, LycorisSpelling.Lycoris, (lokr, 1f));
    }

    /// <summary>A LoHa whose r₁·r₂ passes min(out, in), and a LoKr whose b·c passes max(out, in), run as their whole ΔW.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void ModulesCheaperWholeRunAsTheirDelta(string backend)
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        var loha = TestLycoris.Loha(reference, seed: 4, rank1: 12, rank2: 11, select: m => m.StartsWith("double_blocks.0.", StringComparison.Ordinal));
        var lokr = TestLycoris.Lokr(reference, seed: 5, (_, inFeatures) => (2, inFeatures / 2), select: m => m.StartsWith("single_blocks.", StringComparison.Ordinal));
        AssertSidePathMatchesMerge("tiny_klein", "tiny_klein.bfl.safetensors", reference, backend, LycorisSpelling.Kohya, (loha, 1f));
        AssertSidePathMatchesMerge("tiny_klein", "tiny_klein.diffusers.safetensors", reference, backend, LycorisSpelling.Lycoris, (lokr, 0.5f));

        // Each became a low-rank update of rank min(out, in) = 128 (not 132, nor a Kronecker product).
        using var dir = new TempDirectory();
        string lohaFile = dir.File("loha.safetensors"), lokrFile = dir.File("lokr.safetensors");
        loha.Write(lohaFile, LycorisSpelling.Kohya);
        lokr.Write(lokrFile, LycorisSpelling.Lycoris);
        using var golden = new TransformerGolden("tiny_klein");
        using var model = golden.LoadOnBackend("tiny_klein.bfl.safetensors");
        var set = LoraSet.Load([new LoraFile(lohaFile), new LoraFile(lokrFile)], model.Config, model.Naming, lenient: false);
        Assert.Empty(set.Kronecker);
        Assert.All(set.Updates.Values, u => Assert.Equal(128, u.Rank));
        Assert.Equal(4 * 2 + 2 * 2, set.Updates.Count);
    }

    public static TheoryData<string> Backends => new(TestBackends.Names);

    [Theory]
    [InlineData("fp8_klein")]
    [InlineData("nvfp4_dev")]
    public void QuantizedBasesMatchTheDequantizedWeightsPlusTheDelta(string golden)
    {
        var reference = Fixtures.Golden($"{golden}.bfl.safetensors");
        AssertSidePathMatchesMerge(golden, $"{golden}.bfl.safetensors", reference, TestBackends.Cpu, LycorisSpelling.Lycoris,
            (TestLycoris.Lokr(reference, seed: 2, (_, _) => (4, 4), secondRank: 2, alpha: 1), 1f));
    }

    /// <summary>A LoRA, a LoHa and a LoKr on overlapping layers add up; swapped onto a model that ran a LoRA alone (the side
    /// path's scratch grows from a rank to a LoKr's b·c), the pass equals a model loaded with all three, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void LoraLohaAndLokrAddUp(string backend)
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        var lora = TestLora.Random(reference, seed: 1, rank: 2);
        var loha = TestLycoris.Loha(reference, seed: 2, rank1: 2, rank2: 2, select: m => m.StartsWith("double_blocks.", StringComparison.Ordinal));
        var lokr = TestLycoris.Lokr(reference, seed: 3, (_, _) => (4, 4), secondRank: 4, alpha: 2, select: m => !m.StartsWith("time_in.", StringComparison.Ordinal));
        using var dir = new TempDirectory();
        string loraFile = dir.File("lora.safetensors"), lohaFile = dir.File("loha.safetensors"), lokrFile = dir.File("lokr.safetensors");
        string merged = dir.File("merged.safetensors");
        lora.Write(loraFile, LoraFormat.AiToolkit);
        loha.Write(lohaFile, LycorisSpelling.Kohya);
        lokr.Write(lokrFile, LycorisSpelling.Lycoris);
        TestLora.Merge(reference, merged, (lora, 1f), (loha, 0.5f), (lokr, -1f));
        LoraFile[] files = [new LoraFile(loraFile), new LoraFile(lohaFile, 0.5f), new LoraFile(lokrFile, -1f)];

        using var golden = new TransformerGolden("tiny_klein", backend);
        using var model = golden.LoadOnBackend("tiny_klein.diffusers.safetensors", files);
        using var output = golden.Run(model);
        using var mergedModel = Flux2Transformer.Load(merged, golden.Backend);
        using var expected = golden.Run(mergedModel);
        float diff = FloatComparison.MaxAbsDiff(golden.Values(expected), golden.Values(output));
        Assert.True(diff <= Tolerance, $"max abs error {diff}");

        using var swapped = golden.LoadOnBackend("tiny_klein.diffusers.safetensors", [new LoraFile(loraFile)]);
        golden.Run(swapped).Dispose();
        swapped.UseLoras(LoraSet.Load(files, swapped.Config, swapped.Naming, lenient: false));
        using var again = golden.Run(swapped);
        Assert.Equal(golden.Values(output), golden.Values(again));
    }

    [Fact]
    public void ASteadyStateForwardPassWithALokrAllocatesNothing()
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        using var dir = new TempDirectory();
        var file = dir.File("lokr.safetensors");
        TestLycoris.Lokr(reference, seed: 8, (_, _) => (4, 4)).Write(file, LycorisSpelling.Lycoris);
        SidePathChecks.SteadyStateAllocatesNothing("tiny_klein.diffusers.safetensors", new LoraFile(file));
    }

    /// <summary>The side paths' factors are made resident in the backend's activation type: bf16 where activations are bf16 (a
    /// GPU's fast mode, whose tensor cores then run them as they run the layer), Float32 otherwise.</summary>
    [Theory]
    [InlineData(DType.Float32, WeightFormat.Float32)]
    [InlineData(DType.BFloat16, WeightFormat.BFloat16)]
    public void FactorsAreMadeResidentInTheActivationType(DType activations, WeightFormat expected)
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        using var dir = new TempDirectory();
        string loraFile = dir.File("lora.safetensors"), lokrFile = dir.File("lokr.safetensors");
        TestLora.Random(reference, seed: 1, rank: 2).Write(loraFile, LoraFormat.Peft);
        TestLycoris.Lokr(reference, seed: 2, (_, _) => (4, 4)).Write(lokrFile, LycorisSpelling.Lycoris);
        var backend = new FormatRecordingBackend(TransformerGolden.Cpu, activations);
        using (Flux2Transformer.Load(reference, backend, loras: [new LoraFile(loraFile), new LoraFile(lokrFile)])) { }
        var factors = backend.Loaded.Where(w => w.Name.Contains("(LoRA", StringComparison.Ordinal) || w.Name.Contains("(LoKr", StringComparison.Ordinal)).ToList();
        Assert.Contains(factors, w => w.Name.Contains("(LoKr", StringComparison.Ordinal));
        Assert.All(factors, w => Assert.Equal(expected, w.Format));
    }

    /// <summary>The CPU backend reporting another activation type, recording the weights made resident (loading only).</summary>
    private sealed class FormatRecordingBackend(IBackend inner, DType activations) : DelegatingBackend(inner)
    {
        public List<LinearWeight> Loaded { get; } = [];
        public override DType ActivationDType => activations;

        public override LinearWeight LoadLinear(LinearWeight stored)
        {
            Loaded.Add(stored);
            return base.LoadLinear(stored);
        }
    }

    private static void AssertSidePathMatchesMerge(string io, string baseFile, string reference, string backend, LycorisSpelling spelling,
        (TestLycoris Adapter, float Strength) adapter) =>
        SidePathChecks.MatchesMerge(io, baseFile, reference, backend, $"{spelling} adapter", file => adapter.Adapter.Write(file, spelling), adapter.Adapter,
            adapter.Strength);
}
