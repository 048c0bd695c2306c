using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;

namespace Flux2.Models.Tests.Checkpoints;

public class TransformerRequirementsTests
{
    private static LinearStorage AllFloat(string name) => LinearStorage.Float;

    /// <summary>The Linears of the official dev NVFP4 file (spec §5.6): what <see cref="Flux2BlockQuant.Resolve"/> gives
    /// for the double blocks without metadata, plus every single-block linear1/linear2 — 144 layers.</summary>
    private static IReadOnlySet<string> OfficialDevNvfp4Layers(Flux2Config dev)
    {
        var quant = QuantConfig.MakeNvfp4Config(dev.NumLayers + dev.NumSingleLayers);
        var layers = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < dev.NumLayers; i++)
        {
            var plan = Flux2BlockQuant.Resolve(i, quant, new HashSet<string>());
            var keys = Flux2BlockQuant.BflKeys(i);
            for (int f = 0; f < keys.Count; f++)
            {
                if (plan.Fields[f] == null) continue;
                layers.Add(keys[f]);
                // Ff and FfContext govern both Linears of their MLP.
                if (keys[f].EndsWith("_mlp.0", StringComparison.Ordinal)) layers.Add(keys[f][..^1] + "2");
            }
        }
        for (int j = 0; j < dev.NumSingleLayers; j++)
        {
            layers.Add($"single_blocks.{j}.linear1");
            layers.Add($"single_blocks.{j}.linear2");
        }
        return layers;
    }

    [Fact]
    public void BflDevHas299Tensors() =>
        Assert.Equal(299, TransformerRequirements.For(Flux2Config.Dev(), TensorNaming.Bfl, AllFloat).Count);

    [Fact]
    public void DiffusersKlein4BHas169Tensors() =>
        Assert.Equal(169, TransformerRequirements.For(Flux2Config.Klein4B(), TensorNaming.Diffusers, AllFloat).Count);

    [Fact]
    public void Klein9BCountsFromTheSpecFormula()
    {
        // 9 globals (no guidance embedder), 12 / 16 per double block, 4 per single block.
        Assert.Equal(9 + 12 * 8 + 4 * 24, TransformerRequirements.For(Flux2Config.Klein9B(), TensorNaming.Bfl, AllFloat).Count);
        Assert.Equal(9 + 16 * 8 + 4 * 24, TransformerRequirements.For(Flux2Config.Klein9B(), TensorNaming.Diffusers, AllFloat).Count);
    }

    [Fact]
    public void OfficialDevNvfp4Has731Tensors()
    {
        var dev = Flux2Config.Dev();
        var layers = OfficialDevNvfp4Layers(dev);
        Assert.Equal(144, layers.Count);
        var list = TransformerRequirements.For(dev, TensorNaming.Bfl,
            n => layers.Contains(n[..^".weight".Length]) ? LinearStorage.Nvfp4 : LinearStorage.Float);
        Assert.Equal(731, list.Count);
        Assert.Equal(299 + 3 * 144, list.Count(r => !r.Optional) + list.Count(r => r.Optional));
        Assert.Equal(144, list.Count(r => r.Optional));
        Assert.Equal(144, list.Count(r => r.DTypes.SequenceEqual([DType.UInt8])));

        // Observed shapes of the real file (spec §5.6).
        var byName = list.ToDictionary(r => r.Name);
        Assert.Equal([55296L, 3072], byName["single_blocks.0.linear1.weight"].Shapes.Single());
        Assert.Equal([55296L, 384], byName["single_blocks.0.linear1.weight_scale"].Shapes[0]);
        Assert.Equal([6144L, 12288], byName["single_blocks.47.linear2.weight"].Shapes.Single());
        Assert.Equal([6144L, 1536], byName["single_blocks.47.linear2.weight_scale"].Shapes[0]);
        Assert.Equal([DType.Float8E4M3], byName["double_blocks.7.img_mlp.2.weight_scale"].DTypes);
        // Text-side attention stays bf16 in the official file.
        Assert.Equal([3L * 6144, 6144], byName["double_blocks.0.txt_attn.qkv.weight"].Shapes.Single());
        Assert.Equal(TensorRequirement.FloatDTypes, byName["double_blocks.0.txt_attn.qkv.weight"].DTypes);
        Assert.DoesNotContain("double_blocks.0.txt_attn.qkv.weight_scale", byName.Keys);
    }

    [Fact]
    public void Nvfp4ScalesMayBePaddedToTheSwizzleTile()
    {
        // klein-4B's linear2 of a 3072-wide model: K = 12288 → 768 blocks, N = 3072: no padding needed.
        var config = Flux2Config.Klein4B() with { NumLayers = 0, NumSingleLayers = 1 };
        var list = TransformerRequirements.For(config, TensorNaming.Bfl, n => n.StartsWith("single_blocks", StringComparison.Ordinal) ? LinearStorage.Nvfp4 : LinearStorage.Float);
        Assert.Single(list.Single(r => r.Name == "single_blocks.0.linear2.weight_scale").Shapes);
        // A made-up Linear of 100 rows and 48 blocks has both forms.
        var odd = new Flux2Config { NumLayers = 0, NumSingleLayers = 1, NumAttentionHeads = 1, AttentionHeadDim = 32, AxesDimsRope = [8, 8, 8, 8] };
        var scale = TransformerRequirements.For(odd, TensorNaming.Bfl, n => n == "final_layer.linear.weight" ? LinearStorage.Nvfp4 : LinearStorage.Float)
            .Single(r => r.Name == "final_layer.linear.weight_scale");
        Assert.Equal([[128L, 2], [128L, 4]], scale.Shapes);
    }

    [Fact]
    public void Fp8UsesAScalarScaleInEitherSpelling()
    {
        var config = Flux2Config.Klein4B();
        string target = "double_blocks.0.img_attn.qkv.weight";
        var modern = TransformerRequirements.For(config, TensorNaming.Bfl, n => n == target ? LinearStorage.Fp8 : LinearStorage.Float).ToDictionary(r => r.Name);
        Assert.Equal([DType.Float8E4M3], modern[target].DTypes);
        Assert.Equal([3L * 3072, 3072], modern[target].Shapes.Single());
        Assert.Equal([[], [1L]], modern["double_blocks.0.img_attn.qkv.weight_scale"].Shapes);
        Assert.True(modern["double_blocks.0.img_attn.qkv.input_scale"].Optional);

        var legacy = TransformerRequirements.For(config, TensorNaming.Bfl, n => n == target ? LinearStorage.Fp8LegacyScaleNames : LinearStorage.Float).ToDictionary(r => r.Name);
        Assert.Contains("double_blocks.0.img_attn.qkv.scale_weight", legacy.Keys);
        Assert.Contains("double_blocks.0.img_attn.qkv.scale_input", legacy.Keys);
        Assert.DoesNotContain("double_blocks.0.img_attn.qkv.weight_scale", legacy.Keys);
    }

    [Fact]
    public void NormScalesAreNeverTreatedAsLinears()
    {
        var list = TransformerRequirements.For(Flux2Config.Klein4B(), TensorNaming.Diffusers, _ => LinearStorage.Nvfp4);
        var norm = list.Single(r => r.Name == "transformer_blocks.0.attn.norm_q.weight");
        Assert.Equal(TensorRequirement.FloatDTypes, norm.DTypes);
        Assert.Equal([128L], norm.Shapes.Single());
    }
}
