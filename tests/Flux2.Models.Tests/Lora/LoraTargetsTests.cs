using Flux2.Models.Lora;
using Flux2.Models.Transformer;

namespace Flux2.Models.Tests.Lora;

/// <summary>Where a LoRA module's output rows land in each checkpoint naming (klein-4B: D = 3072, 5 double and 20 single blocks).</summary>
public class LoraTargetsTests
{
    private const int D = 3072;
    private static readonly LoraTargets Bfl = LoraTargets.For(Flux2Config.Klein4B(), TensorNaming.Bfl);
    private static readonly LoraTargets Diffusers = LoraTargets.For(Flux2Config.Klein4B(), TensorNaming.Diffusers);

    [Fact]
    public void ASplitProjectionWritesItsThirdOfTheFusedQkv()
    {
        var target = Bfl.Find("transformer_blocks.2.attn.to_k")!;
        Assert.Equal((D, D), (target.OutFeatures, target.InFeatures));
        Assert.Equal([new LoraRowRange("double_blocks.2.img_attn.qkv.weight", 0, D, D)], target.Ranges);
        Assert.Equal([new LoraRowRange("double_blocks.4.txt_attn.qkv.weight", 0, 2 * D, D)], Bfl.Find("transformer_blocks.4.attn.add_v_proj")!.Ranges);
    }

    [Fact]
    public void AFusedQkvIsSplitOverTheThreeProjections()
    {
        var target = Diffusers.Find("double_blocks.1.txt_attn.qkv")!;
        Assert.Equal((3 * D, D), (target.OutFeatures, target.InFeatures));
        Assert.Equal(
        [
            new LoraRowRange("transformer_blocks.1.attn.add_q_proj.weight", 0, 0, D),
            new LoraRowRange("transformer_blocks.1.attn.add_k_proj.weight", D, 0, D),
            new LoraRowRange("transformer_blocks.1.attn.add_v_proj.weight", 2 * D, 0, D),
        ], target.Ranges);
    }

    [Fact]
    public void TheFinalModulationHalvesSwapBetweenNamings()
    {
        // BFL [shift | scale], diffusers [scale | shift].
        Assert.Equal(
        [
            new LoraRowRange("norm_out.linear.weight", 0, D, D),
            new LoraRowRange("norm_out.linear.weight", D, 0, D),
        ], Diffusers.Find("final_layer.adaLN_modulation.1")!.Ranges);
        Assert.Equal(
        [
            new LoraRowRange("final_layer.adaLN_modulation.1.weight", 0, D, D),
            new LoraRowRange("final_layer.adaLN_modulation.1.weight", D, 0, D),
        ], Bfl.Find("norm_out.linear")!.Ranges);
    }

    [Theory]
    [InlineData("single_blocks_19_linear1", "single_transformer_blocks.19.attn.to_qkv_mlp_proj.weight", 3 * D + 2 * 9216, D)]
    [InlineData("double_blocks_0_img_mlp_2", "transformer_blocks.0.ff.linear_out.weight", D, 9216)]
    [InlineData("transformer_blocks_3_attn_to_out_0", "transformer_blocks.3.attn.to_out.0.weight", D, D)]
    [InlineData("time_in_in_layer", "time_guidance_embed.timestep_embedder.linear_1.weight", D, 256)]
    [InlineData("double_stream_modulation_txt.lin", "double_stream_modulation_txt.linear.weight", 6 * D, D)]
    [InlineData("txt_in", "context_embedder.weight", D, 7680)]
    public void KohyaAndDottedNamesOfEitherNamingResolve(string module, string weight, int outFeatures, int inFeatures)
    {
        var target = Diffusers.Find(module)!;
        Assert.Equal((outFeatures, inFeatures), (target.OutFeatures, target.InFeatures));
        Assert.Equal([new LoraRowRange(weight, 0, 0, outFeatures)], target.Ranges);
        Assert.Equal((outFeatures, inFeatures), Diffusers.WeightShape(weight));
    }

    [Theory]
    [InlineData("single_blocks.20.linear1")] // klein-4B has 20 single blocks
    [InlineData("double_blocks.5.img_attn.qkv")]
    [InlineData("guidance_in.in_layer")] // no guidance embedder in klein
    [InlineData("double_blocks.0.img_attn.norm.query_norm")] // a norm, not a Linear
    [InlineData("text_model_encoder_layers_0_mlp_fc1")]
    [InlineData("double_blocks.0.img_attn.qkv.weight")]
    public void OtherModulesAreNotTargets(string module) => Assert.Null(Bfl.Find(module));

    [Fact]
    public void EveryLinearOfBothNamingsIsATargetOnce()
    {
        // The constructor refuses duplicate names (dotted or kohya), so building dev's targets checks uniqueness.
        var dev = Flux2Config.Dev();
        var targets = LoraTargets.For(dev, TensorNaming.Diffusers);
        var linears = new[] { TensorNaming.Bfl, TensorNaming.Diffusers }
            .SelectMany(n => Flux2WeightMap.ExpectedTensors(dev, n))
            .Where(t => t.Shape.Length == 2)
            .Select(t => t.Name[..^".weight".Length]);
        Assert.Equal(linears.Order(StringComparer.Ordinal), targets.Modules.Order(StringComparer.Ordinal));
        Assert.NotNull(targets.Find("guidance_in.out_layer"));
    }
}
