using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

public class Flux2WeightMapTests
{
    [Fact]
    public void BflDevHas299Tensors() =>
        Assert.Equal(299, Flux2WeightMap.ExpectedTensors(Flux2Config.Dev(), TensorNaming.Bfl).Count);

    [Fact]
    public void DiffusersKlein4BHas169Tensors() =>
        Assert.Equal(169, Flux2WeightMap.ExpectedTensors(Flux2Config.Klein4B(), TensorNaming.Diffusers).Count);

    [Theory]
    [InlineData(TensorNaming.Bfl, true, 11, 12)]
    [InlineData(TensorNaming.Bfl, false, 9, 12)]
    [InlineData(TensorNaming.Diffusers, true, 11, 16)]
    [InlineData(TensorNaming.Diffusers, false, 9, 16)]
    public void CountsPerGlobalDoubleAndSingle(TensorNaming naming, bool guidance, int globals, int perDouble)
    {
        foreach (var (doubles, singles) in new[] { (0, 1), (1, 0), (3, 5) })
        {
            var config = new Flux2Config { NumLayers = doubles, NumSingleLayers = singles, GuidanceEmbeds = guidance };
            Assert.Equal(globals + perDouble * doubles + 4 * singles, Flux2WeightMap.ExpectedTensors(config, naming).Count);
        }
    }

    [Fact]
    public void ShapesFollowTheSpecTable()
    {
        var dev = Flux2WeightMap.ExpectedTensors(Flux2Config.Dev(), TensorNaming.Bfl).ToDictionary(e => e.Name, e => e.Shape);
        Assert.Equal([18432L, 6144], dev["double_blocks.0.img_attn.qkv.weight"]);
        Assert.Equal([55296L, 6144], dev["single_blocks.47.linear1.weight"]);
        Assert.Equal([6144L, 24576], dev["single_blocks.0.linear2.weight"]);
        Assert.Equal([6144L, 15360], dev["txt_in.weight"]);
        Assert.Equal([128L], dev["double_blocks.7.txt_attn.norm.key_norm.scale"]);
        Assert.Equal([12288L, 6144], dev["final_layer.adaLN_modulation.1.weight"]);
        var klein = Flux2WeightMap.ExpectedTensors(Flux2Config.Klein4B(), TensorNaming.Diffusers).ToDictionary(e => e.Name, e => e.Shape);
        Assert.Equal([3072L, 3072], klein["transformer_blocks.4.attn.add_v_proj.weight"]);
        Assert.Equal([18432L, 3072], klein["transformer_blocks.0.ff_context.linear_in.weight"]);
        Assert.Equal([3072L, 9216], klein["transformer_blocks.0.ff.linear_out.weight"]);
        Assert.False(klein.ContainsKey("time_guidance_embed.guidance_embedder.linear_1.weight"));
    }

    [Theory]
    [InlineData("model.diffusion_model.img_in.weight", "img_in.weight")]
    [InlineData("transformer.x_embedder.weight", "x_embedder.weight")]
    [InlineData("proj_out.weight", "proj_out.weight")]
    [InlineData("transformer_blocks.0.attn.to_q.weight", "transformer_blocks.0.attn.to_q.weight")]
    public void StripPrefixRemovesWrappers(string raw, string expected) => Assert.Equal(expected, Flux2WeightMap.StripPrefix(raw));

    [Theory]
    [InlineData("tiny_dev.bfl.safetensors", TensorNaming.Bfl)]
    [InlineData("tiny_dev.diffusers.safetensors", TensorNaming.Diffusers)]
    [InlineData("tiny_klein.bfl.safetensors", TensorNaming.Bfl)]
    [InlineData("head128.diffusers.safetensors", TensorNaming.Diffusers)]
    public void DetectsTheGoldenNamings(string file, TensorNaming expected)
    {
        using var f = SafeTensorsFile.Open(Fixtures.Golden(file));
        Assert.Equal(expected, Flux2WeightMap.DetectNaming(f.Names));
        Assert.Equal(expected, Flux2WeightMap.DetectNaming(f.Names.Select(n => "model.diffusion_model." + n)));
    }

    [Fact]
    public void DetectNamingIsNullForOtherModels()
    {
        using var vae = SafeTensorsFile.Open(Fixtures.Golden("vae_small.diffusers.safetensors"));
        Assert.Null(Flux2WeightMap.DetectNaming(vae.Names));
        Assert.Null(Flux2WeightMap.DetectNaming([]));
    }

    [Theory]
    [InlineData("tiny_dev")]
    [InlineData("tiny_klein")]
    [InlineData("head128")]
    public void GoldenFilesHoldExactlyTheExpectedTensors(string name)
    {
        foreach (var naming in new[] { TensorNaming.Bfl, TensorNaming.Diffusers })
        {
            var file = Fixtures.Golden($"{name}.{(naming == TensorNaming.Bfl ? "bfl" : "diffusers")}.safetensors");
            using var f = SafeTensorsFile.Open(file);
            var config = GoldenConfig(name);
            var expected = Flux2WeightMap.ExpectedTensors(config, naming);
            Assert.Equal(f.Names.Order(StringComparer.Ordinal), expected.Select(e => e.Name).Order(StringComparer.Ordinal));
            foreach (var e in expected) Assert.Equal(e.Shape, f.Tensors[e.Name].Shape);
        }
    }

    /// <summary>The case's diffusers config.json, stored inside CASE.json.</summary>
    internal static string GoldenConfigJson(string name)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden(name + ".json")));
        return doc.RootElement.GetProperty("config.json").GetRawText();
    }

    internal static Flux2Config GoldenConfig(string name)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(GoldenConfigJson(name));
        return Flux2Config.InitializeFromConfig(doc.RootElement, "float32", [Flux2.Core.DeviceRef.Cpu()]);
    }

    /// <summary>Writes the case's config.json into <paramref name="dir"/>.</summary>
    internal static string WriteGoldenConfig(string name, TempDirectory dir)
    {
        var path = dir.File(name + "-config.json");
        File.WriteAllText(path, GoldenConfigJson(name));
        return path;
    }
}
