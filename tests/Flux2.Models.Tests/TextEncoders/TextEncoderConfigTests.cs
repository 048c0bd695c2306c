using System.Text.Json;
using Flux2.Models.TextEncoders;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

public sealed class TextEncoderConfigTests
{
    private static TextEncoderConfig Parse(string json) => TextEncoderConfig.FromJson(JsonDocument.Parse(json).RootElement, "config.json");

    public static TheoryData<string> PublishedRepos => new() { "flux2-klein-4b", "flux2-klein-9b", "flux2-dev" };

    /// <summary>The built-in descriptions of the published encoders are their config.json files, read.</summary>
    [Theory]
    [MemberData(nameof(PublishedRepos))]
    public void ThePublishedEncodersAreTheirConfigFiles(string repo)
    {
        var preset = repo switch
        {
            "flux2-klein-4b" => TextEncoderConfig.Qwen3_4B(),
            "flux2-klein-9b" => TextEncoderConfig.Qwen3_8B(),
            _ => TextEncoderConfig.MistralSmall3(),
        };
        Assert.Equal(TextEncoderConfig.FromJsonFile(Fixtures.File("configs", repo, "text_encoder", "config.json")), preset);
    }

    [Fact]
    public void ReadsTheGoldenQwen3Config()
    {
        var c = TextEncoderConfig.FromJson(JsonDocument.Parse(TextEncoderGoldenCase.Qwen3.Config().ToJsonString()).RootElement, "qwen3");
        Assert.Equal(TextEncoderArchitecture.Qwen3, c.Architecture);
        Assert.True(c.HasQkNorm);
        Assert.Equal((64, 96, 30, 4, 2, 24, 1024), (c.HiddenSize, c.IntermediateSize, c.NumLayers, c.NumHeads, c.NumKeyValueHeads, c.HeadDim, c.VocabSize));
        Assert.Equal((1e-6, 1e6), (c.RmsNormEps, c.RopeTheta));
        Assert.Equal([9, 18, 27], c.FluxHiddenStateLayers);
    }

    [Fact]
    public void ReadsMistral3TextConfigAndNestedRopeParameters()
    {
        var c = Parse("""
            {"model_type": "mistral3", "vision_config": {"hidden_size": 1024},
             "text_config": {"model_type": "mistral", "hidden_size": 5120, "intermediate_size": 32768, "num_hidden_layers": 40,
               "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 131072,
               "rms_norm_eps": 1e-5, "rope_parameters": {"rope_type": "default", "rope_theta": 1000000000.0}}}
            """);
        Assert.Equal(TextEncoderArchitecture.Mistral, c.Architecture);
        Assert.False(c.HasQkNorm);
        Assert.Equal((5120, 40, 8, 128), (c.HiddenSize, c.NumLayers, c.NumKeyValueHeads, c.HeadDim));
        Assert.Equal((1e-5, 1e9), (c.RmsNormEps, c.RopeTheta));
        Assert.Equal([10, 20, 30], c.FluxHiddenStateLayers);
    }

    [Theory]
    [InlineData("""{"model_type": "llama"}""", "model_type 'llama' is not a supported text encoder")]
    [InlineData("""{"hidden_size": 8}""", "missing 'model_type'")]
    [InlineData("""{"model_type": "mistral3"}""", "needs a 'text_config' object")]
    [InlineData("""{"model_type": "qwen3", "num_attention_heads": 4, "intermediate_size": 8, "num_hidden_layers": 2, "vocab_size": 8}""", "missing 'hidden_size'")]
    [InlineData("""{"model_type": "qwen3", "hidden_size": 8, "num_attention_heads": 4, "num_key_value_heads": 3, "intermediate_size": 8, "num_hidden_layers": 2, "vocab_size": 8}""", "not a multiple of num_key_value_heads 3")]
    [InlineData("""{"model_type": "qwen3", "hidden_size": "8"}""", "'hidden_size' must be an integer")]
    [InlineData("""{"model_type": "qwen3", "hidden_size": 8, "num_attention_heads": 4, "intermediate_size": 8, "num_hidden_layers": 2, "vocab_size": 8, "rope_scaling": {"rope_type": "yarn", "factor": 4}}""", "rope_type 'yarn' is not supported")]
    [InlineData("""{"model_type": "qwen3", "hidden_size": 8, "num_attention_heads": 4, "intermediate_size": 8, "num_hidden_layers": 2, "vocab_size": 8, "hidden_act": "gelu"}""", "hidden_act 'gelu' is not supported")]
    public void BadConfigsAreReported(string json, string message)
    {
        var e = Assert.Throws<TextEncoderException>(() => Parse(json));
        Assert.Contains("config.json", e.Message);
        Assert.Contains(message, e.Message);
    }
}
