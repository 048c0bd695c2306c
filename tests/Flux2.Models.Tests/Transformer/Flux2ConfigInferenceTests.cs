using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

public class Flux2ConfigInferenceTests
{
    [Theory]
    [InlineData("tiny_dev", "bfl")]
    [InlineData("tiny_dev", "diffusers")]
    [InlineData("tiny_klein", "bfl")]
    [InlineData("tiny_klein", "diffusers")]
    [InlineData("head128", "bfl")]
    [InlineData("head128", "diffusers")]
    public void InfersTheGoldenConfigs(string name, string naming)
    {
        using var ckpt = SafeTensorsCheckpoint.Open(Fixtures.Golden($"{name}.{naming}.safetensors"));
        var inferred = Flux2ConfigInference.Load(ckpt);
        var expected = Flux2WeightMapTests.GoldenConfig(name);
        Assert.Equal(expected.NumLayers, inferred.NumLayers);
        Assert.Equal(expected.NumSingleLayers, inferred.NumSingleLayers);
        Assert.Equal(expected.AttentionHeadDim, inferred.AttentionHeadDim);
        Assert.Equal(expected.NumAttentionHeads, inferred.NumAttentionHeads);
        Assert.Equal(expected.JointAttentionDim, inferred.JointAttentionDim);
        Assert.Equal(expected.MlpRatio, inferred.MlpRatio);
        Assert.Equal(expected.AxesDimsRope, inferred.AxesDimsRope);
        Assert.Equal(expected.GuidanceEmbeds, inferred.GuidanceEmbeds);
        Assert.Equal(expected.EffectiveOutChannels, inferred.EffectiveOutChannels);
        Assert.Equal(expected.RopeTheta, inferred.RopeTheta);
        Assert.Equal(expected.Eps, inferred.Eps);
    }

    [Theory]
    [InlineData(TensorNaming.Bfl)]
    [InlineData(TensorNaming.Diffusers)]
    public void InfersThePublishedShapes(TensorNaming naming)
    {
        foreach (var preset in new[] { Flux2Config.Dev(), Flux2Config.Klein4B(), Flux2Config.Klein9B() })
        {
            var inferred = Flux2ConfigInference.Infer(Infos(preset, naming, "model.diffusion_model."), "test");
            Assert.Equal(preset.InnerDim, inferred.InnerDim);
            Assert.Equal(128, inferred.AttentionHeadDim);
            Assert.Equal(preset.NumLayers, inferred.NumLayers);
            Assert.Equal(preset.NumSingleLayers, inferred.NumSingleLayers);
            Assert.Equal(preset.JointAttentionDim, inferred.JointAttentionDim);
            Assert.Equal(preset.MlpHidden, inferred.MlpHidden);
            Assert.Equal(preset.GuidanceEmbeds, inferred.GuidanceEmbeds);
            Assert.Equal([32, 32, 32, 32], inferred.AxesDimsRope);
        }
    }

    [Fact]
    public void PackedFp4WeightsCountTwoColumnsPerByte()
    {
        var infos = Infos(Flux2Config.Klein4B(), TensorNaming.Bfl, "")
            .Select(t => t.Name.EndsWith("linear1.weight", StringComparison.Ordinal)
                ? t with { DType = DType.UInt8, Shape = [t.Shape[0], t.Shape[1] / 2] } : t)
            .ToList();
        Assert.Equal(20, Flux2ConfigInference.Infer(infos, "test").NumSingleLayers);
    }

    [Fact]
    public void WrongShapeNamesTheTensor()
    {
        var infos = Infos(Flux2Config.Klein4B(), TensorNaming.Diffusers, "")
            .Select(t => t.Name == "transformer_blocks.2.ff.linear_out.weight" ? t with { Shape = [3072, 9000] } : t)
            .ToList();
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2ConfigInference.Infer(infos, "ckpt"));
        Assert.Contains("transformer_blocks.2.ff.linear_out.weight", e.Message);
        Assert.Contains("[3072, 9000]", e.Message);
        Assert.Contains("[3072, 9216]", e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        var infos = Infos(Flux2Config.Klein4B(), TensorNaming.Bfl, "").Where(t => t.Name != "single_blocks.7.norm.key_norm.scale").ToList();
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2ConfigInference.Infer(infos, "ckpt"));
        Assert.Contains("single_blocks.7.norm.key_norm.scale", e.Message);
    }

    [Fact]
    public void ConfigJsonThatDisagreesWithTheShapesIsRejected()
    {
        using var ckpt = SafeTensorsCheckpoint.Open(Fixtures.Golden("tiny_dev.diffusers.safetensors"));
        using var dir = new TempDirectory();
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2ConfigInference.Load(ckpt, Flux2WeightMapTests.WriteGoldenConfig("head128", dir)));
        Assert.Contains("expected", e.Message);
    }

    [Fact]
    public void ConfigJsonWithGuidanceOnAKleinCheckpointDropsGuidance()
    {
        using var ckpt = SafeTensorsCheckpoint.Open(Fixtures.Golden("tiny_klein.diffusers.safetensors"));
        using var dir = new TempDirectory();
        var config = Flux2ConfigInference.Load(ckpt, Flux2WeightMapTests.WriteGoldenConfig("tiny_dev", dir));
        Assert.False(config.GuidanceEmbeds);
    }

    [Fact]
    public void OtherModelsAreRejected()
    {
        using var vae = SafeTensorsCheckpoint.Open(Fixtures.Golden("vae_small.bfl.safetensors"));
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2ConfigInference.Load(vae));
        Assert.Contains("not a FLUX.2 transformer", e.Message);
    }

    private static List<TensorInfo> Infos(Flux2Config config, TensorNaming naming, string prefix) =>
        Flux2WeightMap.ExpectedTensors(config, naming).Select(e => new TensorInfo(prefix + e.Name, DType.BFloat16, e.Shape, 0, 0)).ToList();
}
