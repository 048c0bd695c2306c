using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Lora;

/// <summary>LoRAs run as a side path against the same LoRA merged into the weights (W + s·B·A in an F32 copy): every format on
/// both namings of the golden transformers and on the FP8 and NVFP4 checkpoints, through the CPU and the opaque backend.</summary>
public class LoraTransformerTests
{
    private const float Tolerance = 1e-5f;

    public static IEnumerable<object[]> Formats => SidePathChecks.OnEveryNamingAndBackend<LoraFormat>();

    /// <summary>PEFT files name diffusers modules; kohya and ai-toolkit files name BFL modules.</summary>
    private static string LoraNaming(LoraFormat format) => format == LoraFormat.Peft ? "diffusers" : "bfl";

    [Theory]
    [MemberData(nameof(Formats))]
    public void EveryFormatOnEitherNamingMatchesTheMergedWeights(LoraFormat format, string naming, string backend)
    {
        foreach (var name in new[] { "tiny_dev", "tiny_klein" })
        {
            var reference = Fixtures.Golden($"{name}.{LoraNaming(format)}.safetensors");
            var lora = TestLora.Random(reference, seed: 11, alpha: format == LoraFormat.Peft ? 8 : null);
            AssertSidePathMatchesMerge(name, $"{name}.{naming}.safetensors", reference, format, backend, (lora, 0.75f));
        }
    }

    public static IEnumerable<object[]> QuantizedCases =>
        from golden in new[] { "fp8_klein", "nvfp4_dev" }
        from format in Enum.GetValues<LoraFormat>()
        from backend in TestBackends.Names
        select new object[] { golden, format, backend };

    /// <summary>The quantized weights stay as stored; the reference is their dequantized values plus the delta.</summary>
    [Theory]
    [MemberData(nameof(QuantizedCases))]
    public void QuantizedBasesMatchTheDequantizedWeightsPlusTheDelta(string golden, LoraFormat format, string backend)
    {
        var reference = Fixtures.Golden(format == LoraFormat.Peft ? $"{golden}.dequant.diffusers.safetensors" : $"{golden}.bfl.safetensors");
        var lora = TestLora.Random(reference, seed: 5, rank: 3, alpha: 1.5f);
        AssertSidePathMatchesMerge(golden, $"{golden}.bfl.safetensors", reference, format, backend, (lora, 1f));
    }

    [Theory]
    [InlineData("bfl")]
    [InlineData("diffusers")]
    public void SeveralLorasAddUp(string naming)
    {
        // Two files in different formats on overlapping layers, with different ranks, alphas and strengths (one negative).
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        var first = TestLora.Random(reference, seed: 1, rank: 2,
            select: m => m.StartsWith("double_blocks.0.", StringComparison.Ordinal) || m.StartsWith("single_blocks.", StringComparison.Ordinal));
        var second = TestLora.Random(reference, seed: 2, rank: 5, alpha: 2, select: m => m.StartsWith("double_blocks.", StringComparison.Ordinal));
        using var dir = new TempDirectory();
        string firstFile = dir.File("first.safetensors"), secondFile = dir.File("second.safetensors"), merged = dir.File("merged.safetensors");
        first.Write(firstFile, LoraFormat.AiToolkit);
        second.Write(secondFile, LoraFormat.Kohya);
        TestLora.Merge(reference, merged, (first, 1f), (second, -0.5f));

        using var golden = new TransformerGolden("tiny_klein");
        using var model = golden.LoadOnBackend($"tiny_klein.{naming}.safetensors", [new LoraFile(firstFile), new LoraFile(secondFile, -0.5f)]);
        using var actual = golden.Run(model);
        using var mergedModel = Flux2Transformer.Load(merged, golden.Backend);
        using var expected = golden.Run(mergedModel);
        float diff = FloatComparison.MaxAbsDiff(golden.Values(expected), golden.Values(actual));
        Assert.True(diff <= Tolerance, $"max abs error {diff}");
    }

    public static TheoryData<string> Backends => new(TestBackends.Names);

    /// <summary>One loaded model runs one LoRA, then another of a larger rank, then none: each pass equals a model loaded
    /// with those LoRAs from the start, bit for bit.</summary>
    [Theory]
    [MemberData(nameof(Backends))]
    public void LorasSwapOnALoadedModel(string backend)
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        using var dir = new TempDirectory();
        string small = dir.File("small.safetensors"), large = dir.File("large.safetensors");
        TestLora.Random(reference, seed: 4, rank: 2).Write(small, LoraFormat.Kohya);
        TestLora.Random(reference, seed: 6, rank: 7, select: m => m.StartsWith("double_blocks.", StringComparison.Ordinal)).Write(large, LoraFormat.Peft);
        LoraFile[] first = [new LoraFile(small, 0.5f)], second = [new LoraFile(small), new LoraFile(large, -1f)];

        using var golden = new TransformerGolden("tiny_klein", backend);
        float[] Fresh(IReadOnlyList<LoraFile>? loras)
        {
            using var model = golden.LoadOnBackend("tiny_klein.diffusers.safetensors", loras);
            using var output = golden.Run(model);
            return golden.Values(output);
        }
        using var swapped = golden.LoadOnBackend("tiny_klein.diffusers.safetensors");
        float[] Swapped(IReadOnlyList<LoraFile> loras)
        {
            swapped.UseLoras(loras.Count == 0 ? null : LoraSet.Load(loras, swapped.Config, swapped.Naming, lenient: false));
            Assert.Equal(loras, swapped.Loras);
            using var output = golden.Run(swapped);
            return golden.Values(output);
        }
        var plain = Fresh(null);
        Assert.Equal(Fresh(first), Swapped(first));
        Assert.Equal(Fresh(second), Swapped(second));
        Assert.Equal(plain, Swapped([]));
        Assert.NotEqual(plain, Fresh(first));
    }

    [Fact]
    public void ASteadyStateForwardPassWithLorasAllocatesNothing()
    {
        var reference = Fixtures.Golden("tiny_klein.diffusers.safetensors");
        using var dir = new TempDirectory();
        var loraFile = dir.File("lora.safetensors");
        TestLora.Random(reference, seed: 3).Write(loraFile, LoraFormat.Peft);
        SidePathChecks.SteadyStateAllocatesNothing("tiny_klein.bfl.safetensors", new LoraFile(loraFile));
    }

    private static void AssertSidePathMatchesMerge(string io, string baseFile, string reference, LoraFormat format, string backend,
        (TestLora Lora, float Strength) lora) =>
        SidePathChecks.MatchesMerge(io, baseFile, reference, backend, $"{format} LoRA", file => lora.Lora.Write(file, format), lora.Lora, lora.Strength);
}
