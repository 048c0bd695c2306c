using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Lora;

/// <summary>The file formats DoRA modules come in: PEFT's <c>lora_magnitude_vector</c> beside a LoRA pair, LyCORIS'
/// <c>dora_scale</c> beside a kohya LoRA (BF16), a LoHa or a LoKr.</summary>
public enum DoraFormat
{
    PeftLora,
    KohyaLora,
    LycorisLoha,
    LycorisLokr,
}

/// <summary>DoRA modules run as a gain on the layer's product plus their rescaled update (a LoKr's outputs scaled in its block
/// mix), against the decomposed weights
/// W + s·(c ⊙ (W + ΔW) − W) merged into an F32 copy (<see cref="TestDora"/>): every format on both namings (so fused and
/// split projections and the swapped final modulation), strengths other than 1, dev's guidance embedder (whose last layer
/// adds into the time embedding), quantized bases, DoRA beside plain adapters, through the CPU and the opaque backend.</summary>
public class DoraTransformerTests
{
    private const float Tolerance = 1e-5f;

    public static IEnumerable<object[]> FormatsAndNamings => SidePathChecks.OnEveryNamingAndBackend<DoraFormat>();

    [Theory]
    [MemberData(nameof(FormatsAndNamings))]
    public void DoraMatchesTheDecomposedWeights(DoraFormat format, string naming, string backend)
    {
        // PEFT names diffusers modules, kohya and LyCORIS BFL ones, so each meets the other naming too.
        var reference = Fixtures.Golden($"tiny_klein.{(format == DoraFormat.PeftLora ? "diffusers" : "bfl")}.safetensors");
        ITestAdapter adapter = format switch
        {
            DoraFormat.LycorisLoha => TestLycoris.Loha(reference, seed: 11, rank1: 2, rank2: 2, alpha: 3),
            // A rank-2 second pair, a first half of 4 × 4 blocks.
            DoraFormat.LycorisLokr => TestLycoris.Lokr(reference, seed: 24, (_, _) => (4, 4), secondRank: 2, alpha: 1),
            _ => TestLora.Random(reference, seed: 12, rank: 3, alpha: 2),
        };
        var dora = new TestDora(reference, adapter, seed: 13);
        float strength = format == DoraFormat.KohyaLora ? 1f : 0.7f;
        SidePathChecks.MatchesMerge("tiny_klein", $"tiny_klein.{naming}.safetensors", reference, backend, $"{format} DoRA", file =>
        {
            switch (adapter)
            {
                case TestLycoris lycoris: lycoris.Write(file, LycorisSpelling.Lycoris, dora.Magnitudes); break;
                case TestLora lora: lora.Write(file, format == DoraFormat.PeftLora ? LoraFormat.Peft : LoraFormat.Kohya, dora.Magnitudes); break;
            }
        }, dora, strength);
    }

    /// <summary>On every Linear of tiny_dev, the guidance embedder's last one included: its product is scaled apart and then
    /// added to the time embedding.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void DoraOnDevsGuidanceEmbedderToo(string backend)
    {
        var reference = Fixtures.Golden("tiny_dev.bfl.safetensors");
        var lora = TestLora.Random(reference, seed: 14, rank: 2);
        Assert.Contains(lora.Layers, l => l.Module == "guidance_in.out_layer");
        var dora = new TestDora(reference, lora, seed: 15);
        SidePathChecks.MatchesMerge("tiny_dev", "tiny_dev.diffusers.safetensors", reference, backend, "DoRA",
            file => lora.Write(file, LoraFormat.AiToolkit, dora.Magnitudes), dora, -0.5f);
    }

    public static TheoryData<string> Backends => new(TestBackends.Names);

    /// <summary>The norms are those of the weights as the GEMM decodes them.</summary>
    [Theory]
    [InlineData("fp8_klein")]
    [InlineData("nvfp4_dev")]
    public void QuantizedBasesAreNormalisedAsDecoded(string golden)
    {
        var reference = Fixtures.Golden($"{golden}.bfl.safetensors");
        var lora = TestLora.Random(reference, seed: 16, rank: 2);
        var dora = new TestDora(reference, lora, seed: 17);
        SidePathChecks.MatchesMerge(golden, $"{golden}.bfl.safetensors", reference, TestBackends.Cpu, "DoRA",
            file => lora.Write(file, LoraFormat.AiToolkit, dora.Magnitudes), dora, 1f);
    }

    /// <summary>A DoRA file beside a LoRA and a LoKr on the same layers: each is normalised against the stored weight plus its
    /// own update and the changes add up (PEFT's combination). Swapped onto a model without them and back off, the passes
    /// equal fresh loads bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void DoraBesidePlainAdaptersAddsUpAndSwaps(string backend)
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        var doraBase = TestLora.Random(reference, seed: 18, rank: 2);
        var dora = new TestDora(reference, doraBase, seed: 19);
        var lora = TestLora.Random(reference, seed: 20, rank: 2, select: m => m.StartsWith("double_blocks.", StringComparison.Ordinal));
        var lokr = TestLycoris.Lokr(reference, seed: 21, (_, _) => (4, 4), select: m => m.StartsWith("single_blocks.", StringComparison.Ordinal));
        using var dir = new TempDirectory();
        string doraFile = dir.File("dora.safetensors"), loraFile = dir.File("lora.safetensors"), lokrFile = dir.File("lokr.safetensors");
        string merged = dir.File("merged.safetensors");
        doraBase.Write(doraFile, LoraFormat.Peft, dora.Magnitudes);
        lora.Write(loraFile, LoraFormat.AiToolkit);
        lokr.Write(lokrFile, LycorisSpelling.Lycoris);
        TestLora.Merge(reference, merged, (lora, 0.5f), (dora, 0.8f), (lokr, 1f));
        LoraFile[] files = [new LoraFile(loraFile, 0.5f), new LoraFile(doraFile, 0.8f), new LoraFile(lokrFile)];

        using var golden = new TransformerGolden("tiny_klein", backend);
        using var model = golden.LoadOnBackend("tiny_klein.diffusers.safetensors", files);
        using var output = golden.Run(model);
        using var mergedModel = Flux2Transformer.Load(merged, golden.Backend);
        using var expected = golden.Run(mergedModel);
        float diff = FloatComparison.MaxAbsDiff(golden.Values(expected), golden.Values(output));
        Assert.True(diff <= Tolerance, $"max abs error {diff}");

        using var swapped = golden.LoadOnBackend("tiny_klein.diffusers.safetensors");
        using var plain = golden.Run(swapped);
        swapped.UseLoras(LoraSet.Load(files, swapped.Config, swapped.Naming, lenient: false));
        using var again = golden.Run(swapped);
        Assert.Equal(golden.Values(output), golden.Values(again));
        swapped.UseLoras(null);
        using var plainAgain = golden.Run(swapped);
        Assert.Equal(golden.Values(plain), golden.Values(plainAgain));
    }

    [Fact]
    public void ASteadyStateForwardPassWithDoraAllocatesNothing()
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        var lora = TestLora.Random(reference, seed: 22, rank: 2);
        var dora = new TestDora(reference, lora, seed: 23);
        using var dir = new TempDirectory();
        var file = dir.File("dora.safetensors");
        lora.Write(file, LoraFormat.AiToolkit, dora.Magnitudes);
        SidePathChecks.SteadyStateAllocatesNothing("tiny_klein.diffusers.safetensors", new LoraFile(file));
    }
}
