using Flux2.Models.Checkpoints;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>The transformer config.json files of the published repositories (tests/fixtures/configs) give exactly
/// the spec §1.1 configurations and are recognised as their model.</summary>
public class PublishedConfigTests
{
    public static TheoryData<string, Flux2Model> Published => new()
    {
        { "flux2-dev", Flux2Model.Dev },
        { "flux2-klein-4b", Flux2Model.Klein4B },
        { "flux2-klein-9b", Flux2Model.Klein9B },
    };

    [Theory]
    [MemberData(nameof(Published))]
    public void ConfigJsonReproducesThePreset(string repo, Flux2Model model)
    {
        var config = Flux2Config.FromJsonFile(Fixtures.File("configs", repo, "transformer", "config.json"));
        var preset = Flux2Variant.Preset(model);
        Assert.Equal(preset.NumLayers, config.NumLayers);
        Assert.Equal(preset.NumSingleLayers, config.NumSingleLayers);
        Assert.Equal(preset.NumAttentionHeads, config.NumAttentionHeads);
        Assert.Equal(preset.AttentionHeadDim, config.AttentionHeadDim);
        Assert.Equal(preset.JointAttentionDim, config.JointAttentionDim);
        Assert.Equal(preset.GuidanceEmbeds, config.GuidanceEmbeds);
        Assert.Equal(preset.MlpRatio, config.MlpRatio);
        Assert.Equal(preset.AxesDimsRope, config.AxesDimsRope);
        Assert.Equal(preset.RopeTheta, config.RopeTheta);
        Assert.Equal(preset.Eps, config.Eps);
        Assert.Null(config.OutChannels);
        Assert.Equal(model, Flux2Variant.Match(config));
    }

    [Fact]
    public void DerivedSizesMatchTheSpecTable()
    {
        var dev = Flux2Config.FromJsonFile(Fixtures.File("configs", "flux2-dev", "transformer", "config.json"));
        var k4 = Flux2Config.FromJsonFile(Fixtures.File("configs", "flux2-klein-4b", "transformer", "config.json"));
        var k9 = Flux2Config.FromJsonFile(Fixtures.File("configs", "flux2-klein-9b", "transformer", "config.json"));
        Assert.Equal((6144, 18432), (dev.InnerDim, dev.MlpHidden));
        Assert.Equal((3072, 9216), (k4.InnerDim, k4.MlpHidden));
        Assert.Equal((4096, 12288), (k9.InnerDim, k9.MlpHidden));
        Assert.Equal(55296, 3 * dev.InnerDim + 2 * dev.MlpHidden);
        Assert.Equal(27648, 3 * k4.InnerDim + 2 * k4.MlpHidden);
        Assert.Equal(36864, 3 * k9.InnerDim + 2 * k9.MlpHidden);
        Assert.Equal(16384, k9.InnerDim + k9.MlpHidden);
    }

    [Fact]
    public void Nvfp4EncodingGivesMaxsQuantConfig()
    {
        var dev = Flux2Config.FromJsonFile(Fixtures.File("configs", "flux2-dev", "transformer", "config.json"), "float4_e2m1fnx2");
        Assert.NotNull(dev.QuantConfig);
        Assert.Equal(56, dev.QuantConfig!.AttnQuantizedLayers.Count);
        Assert.Equal(Core.DType.BFloat16, dev.DType);
        Assert.Equal(Flux2Model.Dev, Flux2Variant.Match(dev));
    }
}
