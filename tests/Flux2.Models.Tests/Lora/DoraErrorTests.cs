using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Tests;
using static Flux2.Models.Tests.Lora.LoraFiles;
using Entry = (string Name, Flux2.Core.DType DType, long[] Shape, float[] Values);

namespace Flux2.Models.Tests.Lora;

/// <summary>DoRA magnitudes that cannot be applied: a typed error naming the file and the tensor or module and what was
/// expected, lenient or not.</summary>
public class DoraErrorTests
{
    private const string Module = "diffusion_model.double_blocks.0.img_attn.qkv";
    private const string Dotted = "double_blocks.0.img_attn.qkv";

    public static IEnumerable<object[]> BadMagnitudes =>
    [
        // LyCORIS' older magnitudes over the input columns.
        [(Entry[])[.. Pair(Module, 2, 3 * D, D), F32($"{Module}.dora_scale", [1, D], Values(D, 5))],
            $"tensor '{Module}.dora_scale': DoRA magnitudes over the layer's input columns [1, {D}] (LyCORIS' form before April 2025, " +
            $"wd_on_output=False) are not supported, only over its outputs: [{3 * D}] or [{3 * D}, 1]"],
        [(Entry[])[.. Pair(Module, 2, 3 * D, D), F32($"{Module}.lora_magnitude_vector", [D], Values(D, 5))],
            $"tensor '{Module}.lora_magnitude_vector': the DoRA magnitudes of '{Dotted}' must be [{3 * D}] or [{3 * D}, 1] " +
            $"(one per output of the layer), found [{D}]"],
        [(Entry[])[.. Pair(Module, 2, 3 * D, D), F32($"{Module}.dora_scale", [3 * D, 1], [.. Values(3 * D - 1, 5), float.NaN])],
            $"tensor '{Module}.dora_scale': element {3 * D - 1} (row {3 * D - 1}, column 0) is NaN; LoRA weights must be finite numbers"],
        [(Entry[])[F32($"{Module}.dora_scale", [3 * D, 1], Values(3 * D, 5))],
            $"'{Dotted}' has '{Module}.dora_scale' but no down weight (lora_A / lora_down)"],
    ];

    [Theory]
    [MemberData(nameof(BadMagnitudes))]
    public void MagnitudesThatCannotBeAppliedAreNamed(Entry[] tensors, string expected) => AssertRefused(tensors, expected);

    /// <summary>Magnitudes so large against the weights' norms that the rescaled update leaves the float range are refused when
    /// the adapter is applied (the norms need the model), and the model runs on as it was.</summary>
    [Fact]
    public void MagnitudesTooLargeForTheWeightsAreRefusedWhenApplied()
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        var lora = TestLora.Random(reference, seed: 30, rank: 2, select: m => m == "double_blocks.0.img_attn.proj");
        var magnitudes = new Dictionary<string, float[]> { ["double_blocks.0.img_attn.proj"] = Enumerable.Repeat(3e38f, lora.Layers[0].Out).ToArray() };
        using var dir = new TempDirectory();
        var file = dir.File("huge.safetensors");
        lora.Write(file, LoraFormat.AiToolkit, magnitudes);
        using var golden = new TransformerGolden("tiny_klein");
        using var model = golden.LoadOnBackend("tiny_klein.bfl.safetensors");
        using var before = golden.Run(model);
        var set = LoraSet.Load([new LoraFile(file)], model.Config, model.Naming, lenient: false);
        var e = Assert.Throws<LoraException>(() => model.UseLoras(set));
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(file)}: 'double_blocks.0.img_attn.proj': the DoRA magnitude of output \\d+ \\(3E\\+38\\) " +
            "over the norm of its weight row leaves the float range when applied; the magnitudes do not fit this model's weights$", e.Message);
        using var after = golden.Run(model);
        Assert.Equal(golden.Values(before), golden.Values(after));
    }
}
