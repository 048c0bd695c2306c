using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Core.Quantization;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>Every golden checkpoint is recognised with the right layout, naming and config, and nothing missing.</summary>
public class GoldenInspectionTests
{
    public static TheoryData<string, string, TensorNaming> Transformers => new()
    {
        { "tiny_dev.bfl.safetensors", "tiny_dev", TensorNaming.Bfl },
        { "tiny_dev.diffusers.safetensors", "tiny_dev", TensorNaming.Diffusers },
        { "tiny_klein.bfl.safetensors", "tiny_klein", TensorNaming.Bfl },
        { "tiny_klein.diffusers.safetensors", "tiny_klein", TensorNaming.Diffusers },
        { "head128.bfl.safetensors", "head128", TensorNaming.Bfl },
        { "head128.diffusers.safetensors", "head128", TensorNaming.Diffusers },
        { "nvfp4_dev.bfl.safetensors", "nvfp4_dev", TensorNaming.Bfl },
        { "nvfp4_dev_nometa.bfl.safetensors", "nvfp4_dev", TensorNaming.Bfl },
        { "nvfp4_dev.dequant.diffusers.safetensors", "nvfp4_dev", TensorNaming.Diffusers },
        { "fp8_klein.bfl.safetensors", "fp8_klein", TensorNaming.Bfl },
        { "fp8_klein.dequant.diffusers.safetensors", "fp8_klein", TensorNaming.Diffusers },
    };

    [Theory]
    [MemberData(nameof(Transformers))]
    public void TransformerFilesAreCompleteWithTheirCaseConfig(string file, string caseName, TensorNaming naming)
    {
        var i = CheckpointInspector.Inspect(Fixtures.Golden(file));
        Assert.Equal(CheckpointLayout.SingleFile, i.Source.Layout);
        Assert.True(i.IsComplete, string.Join("; ", i.Components.SelectMany(c => c.Problems.Concat(c.Validation?.Issues.Select(x => x.Name + " " + x.Detail) ?? []))));
        var c = Assert.Single(i.Components);
        Assert.Equal(ComponentKind.Transformer, c.Kind);
        var t = c.Transformer!;
        Assert.Equal(naming, t.Naming);
        Assert.Equal("inferred from tensor shapes", t.ConfigSource);
        Assert.Empty(t.Validation.Of(TensorIssueKind.Missing));
        Assert.True(t.Validation.IsComplete);

        var expected = TestCheckpoints.GoldenConfig(caseName);
        foreach (var key in Flux2Config.JsonKeys.Where(k => k is not "axes_dims_rope" and not "rope_theta" and not "eps"))
            Assert.Equal(Field(expected, key), Field(t.Config, key));
        // A BFL file does not record the RoPE split; inference assumes four equal axes, as every golden uses.
        Assert.Equal(expected.AxesDimsRope, t.Config.AxesDimsRope);
        Assert.Null(t.Model);
        Assert.Equal(t.Validation.Required, t.Validation.Present);
    }

    private static object? Field(Flux2Config c, string key) => key switch
    {
        "patch_size" => c.PatchSize,
        "in_channels" => c.InChannels,
        "out_channels" => c.EffectiveOutChannels,
        "num_layers" => c.NumLayers,
        "num_single_layers" => c.NumSingleLayers,
        "attention_head_dim" => c.AttentionHeadDim,
        "num_attention_heads" => c.NumAttentionHeads,
        "joint_attention_dim" => c.JointAttentionDim,
        "timestep_guidance_channels" => c.TimestepGuidanceChannels,
        "mlp_ratio" => c.MlpHidden,
        "guidance_embeds" => c.GuidanceEmbeds,
        _ => throw new ArgumentOutOfRangeException(nameof(key), key, null),
    };

    [Fact]
    public void Nvfp4FileResolvesMaxsPlanFromItsMetadata()
    {
        var t = CheckpointInspector.Inspect(Fixtures.Golden("nvfp4_dev.bfl.safetensors")).Transformer!;
        Assert.Equal("float4_e2m1fnx2", t.Encoding);
        Assert.Equal(16, t.QuantizedLinears.Count);
        Assert.All(t.QuantizedLinears, q => Assert.Equal(WeightFormat.Nvfp4, q.Format));
        Assert.Equal(16, t.MetadataLayers.Count);
        Assert.NotNull(t.Config.QuantConfig);
        Assert.Equal(DType.BFloat16, t.Config.DType);
        Assert.Equal(16, t.Config.Nvfp4LayersBfl.Count);
        Assert.Equal(2, t.DoubleBlockPlan!.Count);
        foreach (var block in t.DoubleBlockPlan)
        {
            Assert.NotNull(block.AttnQkv);
            Assert.NotNull(block.AttnOut);
            Assert.Null(block.AddedAttnQkv);
            Assert.Null(block.AddedAttnOut);
            Assert.NotNull(block.Ff);
            Assert.NotNull(block.FfContext);
        }
        Assert.Empty(t.Warnings);
        Assert.Empty(t.Problems);
        Assert.Contains(t.QuantizedLinears, q => q is { Name: "single_blocks.1.linear2", OutFeatures: 128, InFeatures: 512 });
    }

    [Fact]
    public void Nvfp4FileWithoutMetadataUsesTheLegacyFallback()
    {
        var t = CheckpointInspector.Inspect(Fixtures.Golden("nvfp4_dev_nometa.bfl.safetensors")).Transformer!;
        Assert.Empty(t.MetadataLayers);
        Assert.Empty(t.Config.Nvfp4LayersBfl);
        Assert.NotNull(t.Config.QuantConfig);
        Assert.All(t.DoubleBlockPlan!, b => Assert.Null(b.AddedAttnQkv));
        Assert.All(t.DoubleBlockPlan!, b => Assert.NotNull(b.AttnQkv));
        Assert.Empty(t.Problems);
    }

    [Fact]
    public void AMistralFileWhoseConfigurationTheShapesCannotTellIsRecognisedButIncomplete()
    {
        // Without q_norm the head dim is taken to be 128, as in Mistral-Small; the tiny golden one uses 32.
        var c = Assert.Single(CheckpointInspector.Inspect(Fixtures.Golden("te_mistral_dev.safetensors")).Components);
        Assert.Equal((ComponentKind.TextEncoder, "transformers (Mistral, prefix 'model.')"), (c.Kind, c.Naming));
        Assert.Contains("not whole heads of 128; give the encoder's config.json", Assert.Single(c.Problems));
        Assert.False(c.IsComplete);
    }

    [Fact]
    public void Fp8FileIsReadPerTensor()
    {
        var t = CheckpointInspector.Inspect(Fixtures.Golden("fp8_klein.bfl.safetensors")).Transformer!;
        Assert.Equal("float8_e4m3fn", t.Encoding);
        Assert.Equal(20, t.QuantizedLinears.Count);
        Assert.All(t.QuantizedLinears, q => Assert.Equal(WeightFormat.Fp8E4M3, q.Format));
        Assert.Null(t.Config.QuantConfig);
        Assert.Equal(20, t.MetadataLayers.Count);
        Assert.All(t.DoubleBlockPlan!, b => Assert.All(b.Fields, Assert.Null));
    }

    [Theory]
    [InlineData("vae_small.bfl.safetensors", ComponentKind.Vae, "BFL")]
    [InlineData("vae_small.diffusers.safetensors", ComponentKind.Vae, "diffusers")]
    [InlineData("te_qwen3_klein.safetensors", ComponentKind.TextEncoder, "transformers (Qwen3, prefix 'model.')")]
    public void OtherComponentFilesAreRecognised(string file, ComponentKind kind, string naming)
    {
        var i = CheckpointInspector.Inspect(Fixtures.Golden(file));
        Assert.True(i.IsComplete);
        var c = Assert.Single(i.Components);
        Assert.Equal(kind, c.Kind);
        Assert.Equal(naming, c.Naming);
        Assert.Null(c.Transformer);
        Assert.Null(i.Variant);
        using var f = Core.SafeTensors.SafeTensorsFile.Open(Fixtures.Golden(file));
        Assert.Equal(f.Names.Count, c.Tensors!.Count);
    }

    [Theory]
    [InlineData("vae_small.bfl.safetensors")]
    [InlineData("vae_small.diffusers.safetensors")]
    public void VaeConfigurationIsInferredFromShapes(string file)
    {
        var c = CheckpointInspector.Inspect(Fixtures.Golden(file)).Components[0];
        Assert.Equal([32, 32, 64, 64], c.Vae!.BlockOutChannels);
        Assert.Equal(1, c.Vae.LayersPerBlock);
        var details = c.Details.ToDictionary(d => d.Key, d => d.Value);
        Assert.Equal("(32, 32, 64, 64)", details["block_out_channels"]);
        Assert.Equal("1", details["layers_per_block"]);
        Assert.Equal("32", details["latent_channels"]);
        Assert.Equal("present", details["latent statistics (bn)"]);
    }

    [Theory]
    [InlineData("tiny_dev.io.safetensors")]
    [InlineData("quant_codec.safetensors")]
    public void FilesThatAreNoComponentAreIncomplete(string file)
    {
        var i = CheckpointInspector.Inspect(Fixtures.Golden(file));
        Assert.False(i.IsComplete);
        Assert.Equal(ComponentKind.Unknown, i.Components[0].Kind);
        Assert.Contains("not a FLUX.2 transformer, VAE or text encoder", i.Components[0].Problems.Single());
    }

    [Fact]
    public void GoldenDiffusersRepositoryReportsEveryComponent()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var i = CheckpointInspector.Inspect(dir.Path);
        Assert.Equal(CheckpointLayout.DiffusersRepository, i.Source.Layout);
        Assert.Equal("Flux2Pipeline", i.PipelineClass);
        Assert.True(i.IsComplete, string.Join("; ", i.Problems.Concat(i.Components.SelectMany(c => c.Problems))));
        var kinds = i.Components.ToDictionary(c => c.Name, c => c.Kind);
        Assert.Equal(ComponentKind.Transformer, kinds["transformer"]);
        Assert.Equal(ComponentKind.Vae, kinds["vae"]);
        Assert.Equal(ComponentKind.TextEncoder, kinds["text_encoder"]);
        Assert.Equal(ComponentKind.Tokenizer, kinds["tokenizer"]);
        Assert.Equal(ComponentKind.Scheduler, kinds["scheduler"]);

        var transformer = i.Components.Single(c => c.Name == "transformer");
        Assert.Equal("Flux2Transformer2DModel", transformer.ClassName);
        Assert.EndsWith("config.json", transformer.Transformer!.ConfigSource);
        Assert.Equal(TestCheckpoints.GoldenConfig("tiny_dev").AxesDimsRope, transformer.Transformer.Config.AxesDimsRope);
        Assert.Equal("custom (no published FLUX.2 transformer has these shapes)", i.Variant!.Name);

        Assert.Equal(64, i.Components.Single(c => c.Name == "text_encoder").TextEncoder!.HiddenSize);
        var te = i.Components.Single(c => c.Name == "text_encoder").Details.ToDictionary(d => d.Key, d => d.Value);
        Assert.Equal("Mistral", te["architecture"]);
        Assert.Equal("64", te["hidden size"]);
        // The tiny golden encoder (hidden 64) was not made for the tiny transformer (ctx 96): a warning, not an error.
        Assert.Contains(i.Warnings, w => w.Contains("joint_attention_dim 96", StringComparison.Ordinal));
        var scheduler = i.Components.Single(c => c.Name == "scheduler").Details.ToDictionary(d => d.Key, d => d.Value);
        Assert.Equal("true", scheduler["use_dynamic_shifting"]);
    }
}
