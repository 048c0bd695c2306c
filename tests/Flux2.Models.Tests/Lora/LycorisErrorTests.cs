using Flux2.Models.Lora;
using Flux2.Models.Transformer;
using Flux2.Tests;
using static Flux2.Models.Tests.Lora.LoraFiles;
using Entry = (string Name, Flux2.Core.DType DType, long[] Shape, float[] Values);

namespace Flux2.Models.Tests.Lora;

/// <summary>LoHa and LoKr modules that do not fit: a typed error naming the file and the tensor or module and what was
/// expected, lenient or not (leniency skips only tensors that adapt no layer).</summary>
public class LycorisErrorTests
{
    private const string Module = "lycoris_double_blocks_0_img_attn_qkv";
    private const string Dotted = "double_blocks.0.img_attn.qkv";

    /// <summary>A LoHa of ranks 2 and 3 on the fused qkv [3·D, D].</summary>
    private static Entry[] Loha(int rank1 = 2, int rank2 = 3) =>
    [
        F32($"{Module}.hada_w1_a", [3 * D, rank1], Values(3 * D * rank1, 1)), F32($"{Module}.hada_w1_b", [rank1, D], Values(rank1 * D, 2)),
        F32($"{Module}.hada_w2_a", [3 * D, rank2], Values(3 * D * rank2, 3)), F32($"{Module}.hada_w2_b", [rank2, D], Values(rank2 * D, 4)),
    ];

    public static IEnumerable<object[]> BadModules =>
    [
        // A LoHa whose second pair's ranks differ.
        [(Entry[])[.. Loha()[..3], F32($"{Module}.hada_w2_b", [2, D], Values(2 * D, 4))],
            $"tensor '{Module}.hada_w2_b': the hada_w2_b of '{Dotted}' must be [3, {D}] (the rank of '{Module}.hada_w2_a' by the layer's inputs), found [2, {D}]"],
        // A LoHa whose first up has the rows of one projection.
        [(Entry[])[F32($"{Module}.hada_w1_a", [D, 2], Values(2 * D, 1)), .. Loha()[1..]],
            $"tensor '{Module}.hada_w1_a': the hada_w1_a of '{Dotted}' must be [{3 * D}, rank] (the layer's outputs), found [{D}, 2]"],
        [Loha()[..3], $"'{Dotted}' has '{Module}.hada_w1_a' and '{Module}.hada_w1_b' and '{Module}.hada_w2_a' but no hada_w2_b"],
        // LoKr halves whose product is not the layer's shape.
        [(Entry[])[F32($"{Module}.lokr_w1", [2, 2], Values(4, 1)), F32($"{Module}.lokr_w2", [3, 3], Values(9, 2))],
            $"'{Dotted}': lokr_w1 [2, 2] ⊗ lokr_w2 [3, 3] is [6, 6], the layer is [{3 * D}, {D}]"],
        [(Entry[])[F32($"{Module}.lokr_w1", [4, 2], Values(8, 1)), F32($"{Module}.lokr_w1_a", [4, 1], Values(4, 3)), F32($"{Module}.lokr_w2", [6, 4], Values(24, 2))],
            $"'{Dotted}' has both lokr_w1 ('{Module}.lokr_w1') and lokr_w1_a; a half is given whole or as a pair"],
        [(Entry[])[F32($"{Module}.lokr_w2", [6, 4], Values(24, 2))], $"'{Dotted}' has no lokr_w1 (nor lokr_w1_a and lokr_w1_b)"],
        [(Entry[])[F32($"{Module}.lokr_w1", [4, 2], Values(8, 1)), F32($"{Module}.lokr_w2_a", [6, 2], Values(12, 2)), F32($"{Module}.lokr_w2_b", [3, 4], Values(12, 3))],
            $"tensor '{Module}.lokr_w2_b': lokr_w2_b of '{Dotted}' must be [2, columns] (the rank of '{Module}.lokr_w2_a'), found [3, 4]"],
        // Two adapter kinds on one module.
        [(Entry[])[F32($"{Module}.lokr_w1", [4, 2], Values(8, 1)), F32($"{Module}.lokr_w2", [6, 4], Values(24, 2)), F32($"{Module}.lora_down.weight", [2, D], Values(2 * D, 3))],
            $"'{Dotted}' has tensors of more than one adapter kind (LoRA, LoKr); one module is one kind"],
    ];

    [Theory]
    [MemberData(nameof(BadModules))]
    public void ModulesThatDoNotFitAreNamed(Entry[] tensors, string expected) => AssertRefused(tensors, expected);

    [Fact]
    public void NonFiniteFactorsAndScalesAreRefused()
    {
        using var dir = new TempDirectory();
        var second = Values(24, 2);
        second[7] = float.PositiveInfinity;
        var infinite = Write(dir.File("inf.safetensors"), [F32($"{Module}.lokr_w1", [4, 2], Values(8, 1)), F32($"{Module}.lokr_w2", [6, 4], second)]);
        Assert.Contains($"tensor '{Module}.lokr_w2': element 7 (row 1, column 3) is Infinity",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(infinite))).Message);

        var hugeAlpha = Write(dir.File("alpha.safetensors"),
            [F32($"{Module}.lokr_w1", [4, 2], Values(8, 1)), F32($"{Module}.lokr_w2_a", [6, 1], Values(6, 2)), F32($"{Module}.lokr_w2_b", [1, 4], Values(4, 3)),
             F32($"{Module}.alpha", [], [3e38f])]);
        Assert.Contains($"'{Dotted}': alpha / rank · strength = ",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(hugeAlpha, 10f))).Message);

        // Finite halves of a pair whose product leaves the float range.
        var pairUp = Values(6, 2);
        var pairDown = Values(4, 3);
        (pairUp[1], pairDown[2]) = (1e20f, 1e20f);
        var overflowing = Write(dir.File("overflow.safetensors"),
            [F32($"{Module}.lokr_w1", [4, 2], Values(8, 1)), F32($"{Module}.lokr_w2_a", [6, 1], pairUp), F32($"{Module}.lokr_w2_b", [1, 4], pairDown)]);
        Assert.Equal($"{overflowing}: '{Dotted}': lokr_w2 leaves the float range at element 6 (Infinity · 1); the weights are too large to apply",
            Assert.Throws<LoraException>(() => Load(TensorNaming.Bfl, false, new LoraFile(overflowing))).Message);
    }
}
