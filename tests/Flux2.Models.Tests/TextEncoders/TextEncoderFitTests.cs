using Flux2.Models.TextEncoders;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

/// <summary>Which published text encoder feeds which published transformer (spec §1.1), and what a wrong pair says.</summary>
public sealed class TextEncoderFitTests
{
    private static TextEncoderConfig Encoder(string repo) =>
        TextEncoderConfig.FromJsonFile(Fixtures.File("configs", repo, "text_encoder", "config.json"));

    public static TheoryData<string, string> Pairs => new()
    {
        { "flux2-klein-4b", "flux2-klein-4b" }, { "flux2-klein-4b", "flux2-klein-9b" }, { "flux2-klein-4b", "flux2-dev" },
        { "flux2-klein-9b", "flux2-klein-4b" }, { "flux2-klein-9b", "flux2-klein-9b" }, { "flux2-klein-9b", "flux2-dev" },
        { "flux2-dev", "flux2-klein-4b" }, { "flux2-dev", "flux2-klein-9b" }, { "flux2-dev", "flux2-dev" },
    };

    [Theory]
    [MemberData(nameof(Pairs))]
    public void OnlyTheEncoderPublishedWithATransformerFitsIt(string transformerRepo, string encoderRepo)
    {
        var transformer = Flux2Config.FromJsonFile(Fixtures.File("configs", transformerRepo, "transformer", "config.json"));
        var expected = transformer.GuidanceEmbeds ? TextEncoderArchitecture.Mistral : TextEncoderArchitecture.Qwen3;
        var problem = TextEncoderFit.Problem(transformer, expected, "t.safetensors", Encoder(encoderRepo), "te.safetensors");
        Assert.Equal(transformerRepo == encoderRepo, problem == null);
    }

    [Fact]
    public void AKlein9BTransformerWithAQwen3_4BEncoderSaysWhatItNeeds()
    {
        var problem = TextEncoderFit.Problem(Flux2Config.Klein9B(), TextEncoderArchitecture.Qwen3, "flux-2-klein-9b.safetensors",
            Encoder("flux2-klein-4b"), "qwen_3_4b.safetensors");
        Assert.Equal("the text encoder qwen_3_4b.safetensors (Qwen3-4B, hidden size 2560) gives 3 x 2560 = 7680 features per token, but the " +
            "transformer flux-2-klein-9b.safetensors reads joint_attention_dim 12288: it needs an encoder of hidden size 4096 (Qwen3-8B)", problem);
    }

    [Fact]
    public void AnEncoderOfTheRightWidthButTheWrongFamilyIsRefused()
    {
        // A Qwen3 as wide as Mistral-Small gives the features dev reads, but not the hidden states it was trained on.
        var qwenAsWideAsMistral = Encoder("flux2-klein-4b") with { HiddenSize = 5120 };
        var problem = TextEncoderFit.Problem(Flux2Config.Dev(), TextEncoderArchitecture.Mistral, "flux2-dev.safetensors", qwenAsWideAsMistral, "qwen.safetensors");
        Assert.Equal("the text encoder qwen.safetensors (Qwen3, hidden size 5120) is Qwen3, but the transformer flux2-dev.safetensors reads a " +
            "Mistral encoder (dev: Mistral, klein: Qwen3)", problem);
    }
}
