using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;
using Flux2.Models.Tests.Transformer;
using Flux2.Models.Transformer;
using Flux2.Tests;
using static Flux2.Models.Tests.Lora.LoraFiles;

namespace Flux2.Models.Tests.Lora;

/// <summary>LoRA files that do not fit: a typed error naming the file and the tensor or module, or with lenient loading a
/// warning for tensors that adapt no layer.</summary>
public class LoraErrorTests
{
    private static readonly (string, DType, long[], float[])[] Valid = [.. Pair("diffusion_model.double_blocks.0.img_attn.qkv", 2, 3 * D, D)];

    /// <summary>Seven tensors this transformer cannot use: a text encoder's, a block it does not have, a LoCon mid weight.</summary>
    private static readonly (string, DType, long[], float[])[] Unmatched =
    [
        .. Pair("lora_te1_text_model_encoder_layers_0_mlp_fc1", 2, 4, 4, down: "lora_down", up: "lora_up"),
        .. Pair("diffusion_model.double_blocks.3.img_attn.qkv", 2, 3 * D, D),
        .. Pair("diffusion_model.single_blocks.9.linear1", 2, 3 * D + 2 * M, D),
        F32("diffusion_model.double_blocks.0.img_attn.qkv.lora_mid.weight", [2, 2], Values(4, 0)),
    ];

    [Fact]
    public void TensorsThatAdaptNoLayerAreListedWithTheirCount()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("mixed.safetensors"), [.. Valid, .. Unmatched]);
        var e = Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(file)));
        Assert.StartsWith(file + ": 7 tensors adapt no layer of this transformer: ", e.Message);
        Assert.Contains("'lora_te1_text_model_encoder_layers_0_mlp_fc1.lora_down.weight'", e.Message);
        Assert.Contains("and 2 more", e.Message);
        Assert.EndsWith("lenient loading skips them", e.Message);
        Assert.DoesNotContain("'diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight'", e.Message);
    }

    [Fact]
    public void LenientLoadingSkipsThemWithAWarningAndAppliesTheRest()
    {
        using var dir = new TempDirectory();
        var mixed = Write(dir.File("mixed.safetensors"), [.. Valid, .. Unmatched]);
        var clean = Write(dir.File("clean.safetensors"), Valid);
        var set = Load(TensorNaming.Diffusers, true, new LoraFile(mixed));
        var warning = Assert.Single(set.Warnings);
        Assert.StartsWith(mixed + ": skipped 7 tensors that adapt no layer of this transformer: ", warning);
        var expected = Load(TensorNaming.Diffusers, false, new LoraFile(clean));
        Assert.Equal(expected.Updates.Keys.Order(), set.Updates.Keys.Order());
        foreach (var (weight, update) in expected.Updates) Assert.Equal(update.Up.ToArray(), set.Updates[weight].Up.ToArray());
    }

    [Fact]
    public void LenientWarningsReachTheTransformersLoadWarnings()
    {
        var reference = Fixtures.Golden("tiny_klein.bfl.safetensors");
        using var dir = new TempDirectory();
        var clean = dir.File("clean.safetensors");
        var lora = TestLora.Random(reference, seed: 4, select: m => m.StartsWith("single_blocks.", StringComparison.Ordinal));
        lora.Write(clean, LoraFormat.AiToolkit);
        var mixed = dir.File("mixed.safetensors");
        SafeTensorsRewrite.Rewrite(clean, mixed, SafeTensorsRewrite.Keep, [("diffusion_model.double_blocks.9.img_mlp.0.alpha", DType.Float32, [], BitConverter.GetBytes(1f))]);

        Assert.Throws<LoraException>(() => TransformerGolden.Load("tiny_klein", "diffusers", [new LoraFile(mixed)]));
        using var golden = new TransformerGolden("tiny_klein");
        using var lenient = Flux2Transformer.Load(Fixtures.Golden("tiny_klein.diffusers.safetensors"), golden.Backend, loras: [new LoraFile(mixed)], lenientLoraKeys: true);
        Assert.Contains("skipped 1 tensor that adapts no layer of this transformer: 'diffusion_model.double_blocks.9.img_mlp.0.alpha'", Assert.Single(lenient.LoadWarnings));
        using var strict = TransformerGolden.Load("tiny_klein", "diffusers", [new LoraFile(clean)]);
        using var a = golden.Run(lenient);
        using var b = golden.Run(strict);
        Assert.Equal(b.ToArray<float>(), a.ToArray<float>());
    }

    [Fact]
    public void AFileWhereNothingAppliesIsRefusedEvenWhenLenient()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("other-model.safetensors"), Unmatched);
        foreach (bool lenient in new[] { false, true })
        {
            var e = Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, lenient, new LoraFile(file)));
            Assert.Contains(file, e.Message);
        }
        Assert.Contains("no tensor adapts a layer of this transformer", Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, true, new LoraFile(file))).Message);
    }

    public static IEnumerable<object[]> BadShapes =>
    [
        // Down's input features are not the layer's.
        ["diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", new[] { F32("diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", [2, D + 1], Values(2 * (D + 1), 1)), Valid[1] }, $"must be [rank, {D}]"],
        // Up has the rows of one projection, not of the fused qkv.
        ["diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight", new[] { Valid[0], F32("diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight", [D, 2], Values(2 * D, 1)) }, $"must be [{3 * D}, 2]"],
        // Up's rank differs from Down's.
        ["diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight", new[] { Valid[0], F32("diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight", [3 * D, 4], Values(12 * D, 1)) }, "by the rank of"],
        // Down is not 2-D.
        ["diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", new[] { F32("diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", [2 * D], Values(2 * D, 1)), Valid[1] }, "found [16]"],
        // Integer weights.
        ["diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", new[] { ("diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight", DType.Int64, new long[] { 2, D }, Values(2 * D, 1)), Valid[1] }, "must be F32, BF16, F16 or F64, found I64"],
        // An alpha of two values.
        ["diffusion_model.double_blocks.0.img_attn.qkv.alpha", new[] { Valid[0], Valid[1], F32("diffusion_model.double_blocks.0.img_attn.qkv.alpha", [2], [1f, 2f]) }, "alpha must be one finite number"],
    ];

    [Theory]
    [MemberData(nameof(BadShapes))]
    public void ShapesThatDoNotFitTheLayerAreNamedByTensor(string tensor, (string, DType, long[], float[])[] tensors, string expected)
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("bad.safetensors"), tensors);
        foreach (bool lenient in new[] { false, true })
        {
            var e = Assert.Throws<LoraException>(() => Load(TensorNaming.Diffusers, lenient, new LoraFile(file)));
            Assert.StartsWith($"{file}: tensor '{tensor}': ", e.Message);
            Assert.Contains(expected, e.Message);
        }
    }

    [Fact]
    public void AHalfPairIsRefusedByModule()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("half.safetensors"), [Valid[0]]);
        var e = Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, true, new LoraFile(file)));
        Assert.Equal($"{file}: 'double_blocks.0.img_attn.qkv' has 'diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight' but no up weight (lora_B / lora_up)", e.Message);
    }

    [Fact]
    public void AModuleGivenTwiceIsRefused()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("twice.safetensors"), [.. Valid, .. Pair("lora_unet_double_blocks_0_img_attn_qkv", 2, 3 * D, D, down: "lora_down", up: "lora_up")]);
        var e = Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(file)));
        Assert.Contains("'diffusion_model.double_blocks.0.img_attn.qkv.lora_A.weight' and 'lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight' are both the down weight", e.Message);
    }

    [Fact]
    public void MissingFilesBadMetadataAndBadScalesAreNamed()
    {
        using var dir = new TempDirectory();
        var missing = dir.File("missing.safetensors");
        Assert.Contains(missing, Assert.Throws<SafeTensorsException>(() => Load(TensorNaming.Bfl, false, new LoraFile(missing))).Message);

        var badMetadata = Write(dir.File("meta.safetensors"), Valid, new Dictionary<string, string> { ["lora_adapter_metadata"] = """{"lora_alpha": "eight"}""" });
        var e = Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(badMetadata)));
        Assert.Contains($"{badMetadata}: metadata 'lora_adapter_metadata' is not valid PEFT adapter JSON", e.Message);
        Assert.Contains("lora_alpha must be a finite number", e.Message);

        var valid = Write(dir.File("valid.safetensors"), Valid);
        Assert.Contains("scale must be a finite number", Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(valid, float.NaN))).Message);
    }

    /// <summary>A NaN or infinite weight would spread through every product of its layer: refused naming the tensor and the
    /// element; so is a scale that overflows the float.</summary>
    [Fact]
    public void NonFiniteWeightsAndScalesAreRefused()
    {
        using var dir = new TempDirectory();
        const string module = "diffusion_model.double_blocks.0.img_attn.qkv";
        var up = Values(3 * D * 2, 2);
        up[2 * 5 + 1] = float.NaN;
        var nan = Write(dir.File("nan.safetensors"), [Valid[0], F32($"{module}.lora_B.weight", [3 * D, 2], up)]);
        Assert.Equal($"{nan}: tensor '{module}.lora_B.weight': element 11 (row 5, column 1) is NaN; LoRA weights must be finite numbers",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(nan))).Message);

        var down = Values(2 * D, 1);
        down[3] = float.NegativeInfinity;
        var infinite = Write(dir.File("inf.safetensors"), [F32($"{module}.lora_A.weight", [2, D], down), Valid[1]]);
        Assert.Contains($"tensor '{module}.lora_A.weight': element 3 (row 0, column 3) is -Infinity",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(infinite))).Message);

        var hugeUp = Values(3 * D * 2, 2);
        hugeUp[4] = 3e38f;
        var tooLarge = Write(dir.File("large.safetensors"), [Valid[0], F32($"{module}.lora_B.weight", [3 * D, 2], hugeUp)]);
        Assert.Contains("'double_blocks.0.img_attn.qkv': the scaled up weight leaves the float range at element 4",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(tooLarge, 4f))).Message);

        var hugeAlpha = Write(dir.File("alpha.safetensors"), [.. Valid, F32($"{module}.alpha", [], [3e38f])]);
        Assert.Contains("'double_blocks.0.img_attn.qkv': alpha / rank · strength = ",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(hugeAlpha, 10f))).Message);
    }
}
