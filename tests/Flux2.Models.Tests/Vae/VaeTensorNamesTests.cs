using Flux2.Core.SafeTensors;
using Flux2.Models.Vae;

namespace Flux2.Models.Tests.Vae;

public sealed class VaeTensorNamesTests
{
    [Theory]
    [InlineData("diffusers", VaeNaming.Diffusers)]
    [InlineData("bfl", VaeNaming.Bfl)]
    public void Expected_tensors_are_exactly_those_of_the_golden_files(string file, VaeNaming naming)
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(VaeGolden.WeightsPath(file));
        Assert.Equal(naming, VaeTensorNames.DetectNaming(checkpoint));
        var config = VaeWeightMap.InferConfig(checkpoint);
        var expected = new VaeTensorNames(naming, config.Levels).ExpectedTensors(config);
        Assert.Equal(checkpoint.Names.Order(StringComparer.Ordinal), expected.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (var t in expected) Assert.True(t.Shape.AsSpan().SequenceEqual(checkpoint.Info(t.Name).Shape), t.Name);
    }

    [Fact]
    public void Bfl_decoder_levels_are_numbered_in_reverse()
    {
        var bfl = new VaeTensorNames(VaeNaming.Bfl, 4);
        var diffusers = new VaeTensorNames(VaeNaming.Diffusers, 4);
        Assert.Equal("decoder.up.3.block.2", bfl.DecoderResnet(0, 2));
        Assert.Equal("decoder.up_blocks.0.resnets.2", diffusers.DecoderResnet(0, 2));
        Assert.Equal("decoder.up.1.upsample.conv", bfl.Upsample(2));
        Assert.Equal("decoder.up_blocks.2.upsamplers.0.conv", diffusers.Upsample(2));
        Assert.Equal("encoder.down.1.downsample.conv", bfl.Downsample(1));
        Assert.Equal("encoder.quant_conv", bfl.QuantConv);
        Assert.Equal("post_quant_conv", diffusers.PostQuantConv);
        Assert.Equal("decoder.mid.attn_1.proj_out", bfl.AttentionOut(bfl.MidAttention("decoder")));
        Assert.Equal("encoder.mid_block.attentions.0.to_out.0", diffusers.AttentionOut(diffusers.MidAttention("encoder")));
        Assert.Equal("x.nin_shortcut", bfl.Shortcut("x"));
    }

    [Fact]
    public void The_published_vae_has_the_documented_size()
    {
        var config = new VaeConfig();
        var tensors = new VaeTensorNames(VaeNaming.Diffusers, config.Levels).ExpectedTensors(config);
        long parameters = tensors.Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d));
        // AutoencoderKLFlux2 at (128, 256, 512, 512), 2 layers per block: about 84 M parameters.
        Assert.InRange(parameters, 83_000_000, 85_000_000);
        Assert.Contains(tensors, t => t.Name == "decoder.up_blocks.3.resnets.0.conv_shortcut.weight" && t.Shape.SequenceEqual(new long[] { 128, 256, 1, 1 }));
    }
}
