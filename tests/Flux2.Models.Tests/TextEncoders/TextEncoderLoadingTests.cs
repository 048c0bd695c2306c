using System.Text.Json;
using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.TextEncoders;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

/// <summary>Checkpoint layouts (prefixes, Mistral3 configs, shards) and the errors users can cause. Runs keep to the
/// first layer (hidden state 1) so they stay fast.</summary>
public sealed class TextEncoderLoadingTests
{
    private static readonly TextEncoderOptions FirstLayer = new() { HiddenStateLayers = [1] };

    private static void AssertFirstLayerMatches(TextEncoder encoder, TextEncoderGoldenCase c)
    {
        using var stacked = c.Encode(encoder);
        TextEncoderGoldenCase.AssertClose(c.Expected("outputs.hidden_states.1"), stacked.AsSpan<float>(), "hidden_states.1");
    }

    /// <summary>A Mistral3ForConditionalGeneration config.json: the language model's keys under text_config.</summary>
    private static void AsMistral3(JsonObject config)
    {
        var text = (JsonObject)config.DeepClone();
        foreach (var key in config.Select(p => p.Key).ToList()) config.Remove(key);
        config["model_type"] = "mistral3";
        config["architectures"] = new JsonArray("Mistral3ForConditionalGeneration");
        config["text_config"] = text;
        config["vision_config"] = new JsonObject { ["model_type"] = "pixtral", ["hidden_size"] = 16 };
    }

    [Theory]
    [InlineData("language_model.model.")]
    [InlineData("model.language_model.")]
    public void LoadsMistral3CheckpointsWithEitherPrefixAndIgnoresTheVisionTower(string prefix)
    {
        var c = TextEncoderGoldenCase.Mistral;
        using var dir = new TempDirectory();
        var weights = dir.File("model.safetensors");
        var vision = new byte[4 * 4];
        c.RewriteWeights(weights, rename: n => prefix + n["model.".Length..], extra:
        [
            ("vision_tower.patch_conv.weight", DType.Float32, [2, 2], vision),
            ("multi_modal_projector.linear_1.weight", DType.Float32, [2, 2], vision),
        ]);
        c.WriteConfig(dir, AsMistral3);
        using var encoder = TextEncoder.Open(new CpuBackend(), dir.Path, options: FirstLayer);
        Assert.Equal(TextEncoderArchitecture.Mistral, encoder.Config.Architecture);
        Assert.Equal([10, 20, 30], encoder.Config.FluxHiddenStateLayers);
        AssertFirstLayerMatches(encoder, c);
    }

    [Fact]
    public void LoadsAShardedTextEncoderFolder()
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        c.WriteConfig(dir);
        var map = new JsonObject();
        using (var source = SafeTensorsFile.Open(c.WeightsPath))
        {
            var names = source.Names.ToList();
            for (int shard = 1; shard <= 2; shard++)
            {
                var file = $"model-0000{shard}-of-00002.safetensors";
                var mine = names.Where((_, i) => i % 2 == shard - 1).ToHashSet();
                c.RewriteWeights(dir.File(file), keep: mine.Contains);
                foreach (var n in mine) map[n] = file;
            }
        }
        File.WriteAllText(dir.File("model.safetensors.index.json"), new JsonObject { ["weight_map"] = map }.ToJsonString());
        using var encoder = TextEncoder.Open(new CpuBackend(), dir.Path, options: FirstLayer);
        AssertFirstLayerMatches(encoder, c);
    }

    [Fact]
    public void DisposeReleasesTheWeights()
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        var encoder = TextEncoder.Open(new CpuBackend(), c.WeightsPath, c.WriteConfig(dir), FirstLayer);
        encoder.Dispose();
        var (ids, mask, batch) = c.Inputs();
        Assert.Throws<ObjectDisposedException>(() => encoder.Encode(ids, mask, batch));
    }

    [Theory]
    [InlineData("model.layers.0.mlp.up_proj.weight", "missing tensor 'model.layers.0.mlp.up_proj.weight'")]
    [InlineData("model.layers.0.self_attn.q_norm.weight", "missing tensor 'model.layers.0.self_attn.q_norm.weight'")]
    [InlineData("model.embed_tokens.weight", "no embedding table")]
    public void AMissingTensorIsNamed(string dropped, string message)
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        var weights = dir.File("w.safetensors");
        c.RewriteWeights(weights, keep: n => n != dropped);
        var e = Assert.Throws<TextEncoderException>(() => TextEncoder.Open(new CpuBackend(), weights, c.WriteConfig(dir), FirstLayer));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void AShapeThatContradictsTheConfigIsNamed()
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        var config = c.WriteConfig(dir, j => j["intermediate_size"] = 128);
        var e = Assert.Throws<TextEncoderException>(() => TextEncoder.Open(new CpuBackend(), c.WeightsPath, config, FirstLayer));
        Assert.Contains("'model.layers.0.mlp.gate_proj.weight' is [96, 64], expected [128, 64]", e.Message);
    }

    [Fact]
    public void MissingFilesAreReported()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<TextEncoderException>(() => TextEncoder.Open(new CpuBackend(), dir.Path));
        Assert.Contains("no model.safetensors or model.safetensors.index.json", e.Message);
        var weights = dir.File("te.safetensors");
        TextEncoderGoldenCase.Qwen3.RewriteWeights(weights, keep: n => n == "model.embed_tokens.weight");
        e = Assert.Throws<TextEncoderException>(() => TextEncoder.Open(new CpuBackend(), weights));
        Assert.Contains("no decoder layers ('model.layers.0.*'), so not a text encoder", e.Message); // nothing to infer a configuration from
    }

    [Theory]
    [InlineData(new[] { 30 }, "outside [0, 30)")]
    [InlineData(new[] { 9, 9 }, "strictly ascending")]
    [InlineData(new int[0], "at least one")]
    public void BadHiddenStateLayersAreRejected(int[] layers, string message)
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        var e = Assert.Throws<TextEncoderException>(() =>
            TextEncoder.Open(new CpuBackend(), c.WeightsPath, c.WriteConfig(dir), new TextEncoderOptions { HiddenStateLayers = layers }));
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(1024L, 1L, "input_ids[0, 3] = 1024 is outside the vocabulary [0, 1024)")]
    [InlineData(5L, 2L, "attention_mask[0, 3] = 2, expected 0 or 1")]
    public void BadInputsAreRejected(long id, long maskValue, string message)
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        using var encoder = TextEncoder.Open(new CpuBackend(), c.WeightsPath, c.WriteConfig(dir), FirstLayer);
        var e = Assert.Throws<TextEncoderException>(() => encoder.Encode([1L, 2, 3, id], [1L, 1, 1, maskValue], 1));
        Assert.Contains(message, e.Message);
    }
}
