using Flux2.Core;
using Flux2.Models.Checkpoints;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>The VAE and the text encoder are validated against the tensors their configurations require, as the
/// transformer is: every golden file is complete, and a removed, misshapen or mistyped tensor is named.</summary>
public class ComponentValidationTests
{
    /// <summary>A text_encoder/ folder: the golden case's config.json beside (a rewritten copy of) its weights.</summary>
    public static string TextEncoderFolder(string root, string caseName,
        Func<Core.SafeTensors.TensorView, (string, DType, long[], byte[])?>? edit = null,
        IEnumerable<(string, DType, long[], byte[])>? add = null)
    {
        var folder = System.IO.Path.Combine(root, "text_encoder");
        GoldenRepository.Text(System.IO.Path.Combine(folder, "config.json"), GoldenRepository.ConfigJson(caseName));
        SafeTensorsRewrite.Rewrite(Fixtures.Golden(caseName + ".safetensors"), System.IO.Path.Combine(folder, "model.safetensors"),
            edit ?? SafeTensorsRewrite.Keep, add);
        return folder;
    }

    private static string Issues(ComponentInspection c) =>
        string.Join("; ", c.Problems.Concat(c.Validation?.Issues.Select(x => $"{x.Kind} {x.Name} {x.Detail}") ?? []));

    [Theory]
    [InlineData("vae_small.bfl.safetensors")]
    [InlineData("vae_small.diffusers.safetensors")]
    public void GoldenVaeFilesHoldEveryRequiredTensor(string file)
    {
        var c = CheckpointInspector.Inspect(Fixtures.Golden(file)).Components.Single();
        Assert.True(c.IsComplete, Issues(c));
        Assert.Equal(182, c.Validation!.Required);
        Assert.Equal(182, c.Validation.Present);
    }

    [Fact]
    public void VaeFolderIsValidatedAgainstItsConfig()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var vae = CheckpointInspector.Inspect(dir.Path).Components.Single(c => c.Name == "vae");
        Assert.True(vae.IsComplete, Issues(vae));
        Assert.Equal(182, vae.Validation!.Present);
    }

    [Theory]
    [InlineData("vae_small.diffusers.safetensors", "decoder.up_blocks.0.resnets.0.conv1.weight", "encoder.down_blocks.1.resnets.0.norm1.weight")]
    [InlineData("vae_small.bfl.safetensors", "decoder.up.3.block.0.conv1.weight", "encoder.down.1.block.0.norm1.weight")]
    public void VaeWithAMissingMistypedOrExtraTensorIsIncomplete(string file, string removed, string retyped)
    {
        using var dir = new TempDirectory();
        var path = dir.File("ae.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden(file), path,
            v => v.Name == removed ? null
                : v.Name == retyped ? (v.Name, DType.Int32, v.Shape, v.ToByteArray())
                : SafeTensorsRewrite.Keep(v),
            add: [("decoder.extra.weight", DType.Float32, [2], new byte[8])]);
        var i = CheckpointInspector.Inspect(path);
        Assert.False(i.IsComplete);
        var v = i.Components.Single().Validation!;
        Assert.Collection(v.Issues.OrderBy(x => x.Kind),
            x => Assert.Equal((TensorIssueKind.Missing, removed), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.Unexpected, "decoder.extra.weight"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.WrongDType, retyped), (x.Kind, x.Name)));
        Assert.Contains("expected BF16 or F16 or F32 [64, 64, 3, 3]", v.Issues.Single(x => x.Kind == TensorIssueKind.Missing).Detail);
    }

    [Fact]
    public void VaeWithoutLatentStatisticsIsIncompleteButItsCounterIsIgnored()
    {
        using var dir = new TempDirectory();
        var path = dir.File("ae.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("vae_small.bfl.safetensors"), path,
            v => v.Name == "bn.running_var" ? null : SafeTensorsRewrite.Keep(v),
            add: [("bn.num_batches_tracked", DType.Int64, [], new byte[8])]);
        var c = CheckpointInspector.Inspect(path).Components.Single();
        var issue = Assert.Single(c.Validation!.Issues);
        Assert.Equal((TensorIssueKind.Missing, "bn.running_var"), (issue.Kind, issue.Name));
        Assert.Equal("absent", c.Details.Single(d => d.Key == "latent statistics (bn)").Value);
    }

    [Fact]
    public void VaeWhoseConfigDisagreesWithItsShapesListsTheDifferences()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var config = System.IO.Path.Combine(dir.Path, "vae", "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"latent_channels\": 32", "\"latent_channels\": 16"));
        var vae = CheckpointInspector.Inspect(dir.Path).Components.Single(c => c.Name == "vae");
        Assert.False(vae.IsComplete);
        Assert.Contains(vae.Validation!.Issues, x => (x.Kind, x.Name) == (TensorIssueKind.WrongShape, "post_quant_conv.weight"));
    }

    [Theory]
    [InlineData("te_qwen3_klein", 1 + 27 * 11)]
    [InlineData("te_mistral_dev", 1 + 30 * 9)]
    public void GoldenTextEncodersHoldEveryTensorTheStackedLayersNeed(string caseName, int required)
    {
        using var dir = new TempDirectory();
        // lm_head and the final norm are allowed extras, as are the layers after the last stacked hidden state.
        var c = CheckpointInspector.Inspect(TextEncoderFolder(dir.Path, caseName,
            add: [("lm_head.weight", DType.BFloat16, [1024, 64], new byte[1024 * 64 * 2])])).Components.Single();
        Assert.True(c.IsComplete, Issues(c));
        Assert.Equal(required, c.Validation!.Required);
        Assert.Equal(required, c.Validation.Present);
    }

    [Fact]
    public void TextEncoderWithAMissingMisshapenOrExtraTensorIsIncomplete()
    {
        using var dir = new TempDirectory();
        var folder = TextEncoderFolder(dir.Path, "te_qwen3_klein",
            v => v.Name switch
            {
                "model.layers.3.mlp.up_proj.weight" => null,
                "model.layers.5.self_attn.q_proj.weight" => (v.Name, v.DType, [v.Shape[1], v.Shape[0]], v.ToByteArray()),
                "model.layers.7.self_attn.k_norm.weight" => (v.Name, DType.Int16, v.Shape, v.ToByteArray()),
                // Unread by FLUX.2: not a problem.
                "model.layers.28.mlp.up_proj.weight" or "model.norm.weight" => null,
                _ => SafeTensorsRewrite.Keep(v),
            },
            add: [("model.layers.2.mlp.extra.weight", DType.BFloat16, [4], new byte[8])]);
        var i = CheckpointInspector.Inspect(folder);
        Assert.False(i.IsComplete);
        var v = i.Components.Single().Validation!;
        Assert.Collection(v.Issues.OrderBy(x => x.Kind),
            x => Assert.Equal((TensorIssueKind.Missing, "model.layers.3.mlp.up_proj.weight"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.Unexpected, "model.layers.2.mlp.extra.weight"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.WrongShape, "model.layers.5.self_attn.q_proj.weight"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.WrongDType, "model.layers.7.self_attn.k_norm.weight"), (x.Kind, x.Name)));
        Assert.Contains("expected BF16 or F16 or F32 [96, 64]", v.Issues.Single(x => x.Kind == TensorIssueKind.Missing).Detail);
        Assert.Equal("has shape [64, 96], expected [96, 64]", v.Issues.Single(x => x.Kind == TensorIssueKind.WrongShape).Detail);
    }

    [Fact]
    public void QuantizedTextEncoderLinearsNeedTheirScales()
    {
        const string weight = "model.layers.0.self_attn.o_proj.weight";
        (string, DType, long[], byte[])? Fp8(Core.SafeTensors.TensorView v) =>
            v.Name == weight ? (v.Name, DType.Float8E4M3, v.Shape, new byte[v.Shape[0] * v.Shape[1]]) : SafeTensorsRewrite.Keep(v);
        using var dir = new TempDirectory();
        var scaled = CheckpointInspector.Inspect(TextEncoderFolder(System.IO.Path.Combine(dir.Path, "a"), "te_mistral_dev", Fp8,
            add: [("model.layers.0.self_attn.o_proj.weight_scale", DType.Float32, [], BitConverter.GetBytes(0.5f))])).Components.Single();
        Assert.True(scaled.IsComplete, Issues(scaled));

        var unscaled = CheckpointInspector.Inspect(TextEncoderFolder(System.IO.Path.Combine(dir.Path, "b"), "te_mistral_dev", Fp8)).Components.Single();
        var issue = Assert.Single(unscaled.Validation!.Issues);
        Assert.Equal((TensorIssueKind.Missing, "model.layers.0.self_attn.o_proj.weight_scale"), (issue.Kind, issue.Name));
    }

    [Fact]
    public void TextEncoderFileWithoutConfigIsValidatedAgainstTheConfigurationItsShapesImply()
    {
        var c = CheckpointInspector.Inspect(Fixtures.Golden("te_qwen3_klein.safetensors")).Components.Single();
        Assert.Equal("inferred from tensor shapes", c.Details.Single(d => d.Key == "configuration").Value);
        Assert.Equal(24, c.TextEncoder!.HeadDim);
        Assert.True(c.IsComplete, Issues(c));
        Assert.Equal(298, c.Validation!.Required);

        // Layer 0 tells the sizes; every later layer is checked against them.
        using var dir = new TempDirectory();
        var broken = dir.File("qwen.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("te_qwen3_klein.safetensors"), broken, v => v.Name switch
        {
            "model.layers.5.self_attn.v_proj.weight" => null,
            "model.layers.7.mlp.up_proj.weight" => (v.Name, v.DType, [v.Shape[0] * 2, v.Shape[1]], new byte[v.Info.ByteLength * 2]),
            _ => SafeTensorsRewrite.Keep(v),
        });
        var b = CheckpointInspector.Inspect(broken).Components.Single();
        Assert.False(b.IsComplete);
        Assert.Equal(
            [(TensorIssueKind.Missing, "model.layers.5.self_attn.v_proj.weight"), (TensorIssueKind.WrongShape, "model.layers.7.mlp.up_proj.weight")],
            b.Validation!.Issues.Select(i => (i.Kind, i.Name)).Order());
    }
}
