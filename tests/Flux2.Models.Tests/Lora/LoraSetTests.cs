using Flux2.Models.Lora;
using Flux2.Models.Transformer;
using Flux2.Tests;
using static Flux2.Models.Tests.Lora.LoraFiles;

namespace Flux2.Models.Tests.Lora;

/// <summary>What a set of LoRA files adds to each weight: scales (alpha / rank · strength) folded into Up, and the parts of
/// split and fused projections stacked along the rank.</summary>
public class LoraSetTests
{
    [Fact]
    public void KohyaAlphaOverRankTimesTheStrengthScalesUp()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("kohya.safetensors"),
        [
            .. Pair("lora_unet_double_blocks_0_img_mlp_0", 2, 2 * M, D, down: "lora_down", up: "lora_up"),
            F32("lora_unet_double_blocks_0_img_mlp_0.alpha", [], [1f]),
        ]);
        var update = Load(TensorNaming.Bfl, false, new LoraFile(file, 3f)).Updates["double_blocks.0.img_mlp.0.weight"];
        Assert.Equal((2, 2 * M, D), (update.Rank, update.OutFeatures, update.InFeatures));
        Assert.Equal(Values(2 * D, 1), update.Down.ToArray());
        Assert.Equal(Values(2 * M * 2, 2).Select(v => 1.5f * v), update.Up.ToArray());
    }

    [Fact]
    public void PeftAlphasComeFromTheAdapterMetadataAndDefaultToTheRank()
    {
        using var dir = new TempDirectory();
        var metadata = new Dictionary<string, string>
        {
            ["lora_adapter_metadata"] = """{"transformer.lora_alpha": 8, "transformer.r": 2, "transformer.alpha_pattern": {"transformer_blocks.0.attn.to_out.0": 2}}""",
        };
        var withAlpha = Write(dir.File("peft.safetensors"),
            [.. Pair("transformer.transformer_blocks.0.ff.linear_out", 2, D, M), .. Pair("transformer.transformer_blocks.0.attn.to_out.0", 2, D, D)], metadata);
        var withoutAlpha = Write(dir.File("plain.safetensors"), Pair("transformer.transformer_blocks.0.ff.linear_out", 2, D, M));

        var set = Load(TensorNaming.Diffusers, false, new LoraFile(withAlpha));
        Assert.Equal(Values(D * 2, 2).Select(v => 4f * v), set.Updates["transformer_blocks.0.ff.linear_out.weight"].Up.ToArray());
        Assert.Equal(Values(D * 2, 2), set.Updates["transformer_blocks.0.attn.to_out.0.weight"].Up.ToArray());
        var plain = Load(TensorNaming.Diffusers, false, new LoraFile(withoutAlpha, 0.5f));
        Assert.Equal(Values(D * 2, 2).Select(v => 0.5f * v), plain.Updates["transformer_blocks.0.ff.linear_out.weight"].Up.ToArray());
    }

    [Fact]
    public void SplitProjectionsStackIntoABlockDiagonalUpdateOfTheFusedQkv()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("split.safetensors"),
        [
            .. Pair("transformer.transformer_blocks.0.attn.to_q", 2, D, D, seed: 10),
            .. Pair("transformer.transformer_blocks.0.attn.to_k", 2, D, D, seed: 20),
            .. Pair("transformer.transformer_blocks.0.attn.to_v", 2, D, D, seed: 30),
        ]);
        var update = Load(TensorNaming.Bfl, false, new LoraFile(file)).Updates["double_blocks.0.img_attn.qkv.weight"];
        Assert.Equal((6, 3 * D), (update.Rank, update.OutFeatures));
        Assert.Equal([.. Values(2 * D, 10), .. Values(2 * D, 20), .. Values(2 * D, 30)], update.Down.ToArray());
        var up = update.Up.ToArray();
        for (int part = 0; part < 3; part++)
        {
            var b = Values(D * 2, 10 * (part + 1) + 1);
            for (int row = 0; row < D; row++)
                for (int c = 0; c < 6; c++)
                    Assert.Equal(c / 2 == part ? b[row * 2 + c % 2] : 0f, up[(part * D + row) * 6 + c]);
        }
    }

    [Fact]
    public void AFusedQkvGivesEachProjectionItsThirdOfUpAndAllOfDown()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("fused.safetensors"), Pair("diffusion_model.double_blocks.0.txt_attn.qkv", 3, 3 * D, D));
        var set = Load(TensorNaming.Diffusers, false, new LoraFile(file));
        var b = Values(3 * D * 3, 2);
        foreach (var (name, part) in new[] { ("add_q_proj", 0), ("add_k_proj", 1), ("add_v_proj", 2) })
        {
            var update = set.Updates[$"transformer_blocks.0.attn.{name}.weight"];
            Assert.Equal((3, D), (update.Rank, update.OutFeatures));
            Assert.Equal(Values(3 * D, 1), update.Down.ToArray());
            Assert.Equal(b[(part * D * 3)..((part + 1) * D * 3)], update.Up.ToArray());
        }
        Assert.Equal(3, set.Updates.Count);
    }

    [Fact]
    public void SeveralFilesOnOneWeightAddTheirRanks()
    {
        using var dir = new TempDirectory();
        var first = Write(dir.File("a.safetensors"), Pair("diffusion_model.single_blocks.0.linear2", 2, D, D + M, seed: 1));
        var second = Write(dir.File("b.safetensors"), Pair("lora_unet_single_blocks_0_linear2", 3, D, D + M, seed: 5, down: "lora_down", up: "lora_up"));
        var set = Load(TensorNaming.Diffusers, false, new LoraFile(first, 2f), new LoraFile(second, -1f));
        var update = set.Updates["single_transformer_blocks.0.attn.to_out.weight"];
        Assert.Equal(5, update.Rank);
        Assert.Equal(5, set.ScratchWidth);
        Assert.Equal([.. Values(2 * (D + M), 1), .. Values(3 * (D + M), 5)], update.Down.ToArray());
        var up = update.Up.ToArray();
        Assert.Equal(2f * Values(D * 2, 2)[1], up[1]);
        Assert.Equal(-1f * Values(D * 3, 6)[0], up[2]);
        Assert.Equal(-1f * Values(D * 3, 6)[3], up[5 + 2]);
    }
}
