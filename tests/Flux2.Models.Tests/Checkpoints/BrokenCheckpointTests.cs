using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>Checkpoints with something wrong: the report names every difference, and the checkpoint is incomplete.</summary>
public class BrokenCheckpointTests
{
    [Fact]
    public void ComponentFolderListsEveryDifferenceFromItsConfig()
    {
        using var dir = new TempDirectory();
        var folder = System.IO.Path.Combine(dir.Path, "transformer");
        GoldenRepository.Text(System.IO.Path.Combine(folder, "config.json"), GoldenRepository.ConfigJson("tiny_klein"));
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("tiny_klein.diffusers.safetensors"), System.IO.Path.Combine(folder, "diffusion_pytorch_model.safetensors"),
            v => v.Name switch
            {
                "transformer_blocks.1.ff.linear_out.weight" => null,
                "context_embedder.weight" => (v.Name, v.DType, [v.Shape[1], v.Shape[0]], v.ToByteArray()),
                "single_transformer_blocks.0.attn.norm_q.weight" => (v.Name, DType.Int16, v.Shape, v.ToByteArray()),
                _ => SafeTensorsRewrite.Keep(v),
            },
            add: [("extra.bias", DType.BFloat16, [4], new byte[8])]);

        var i = CheckpointInspector.Inspect(folder);
        Assert.False(i.IsComplete);
        var t = i.Transformer!;
        Assert.EndsWith("config.json", t.ConfigSource);
        Assert.Collection(t.Validation.Issues.OrderBy(x => x.Kind),
            x => Assert.Equal((TensorIssueKind.Missing, "transformer_blocks.1.ff.linear_out.weight"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.Unexpected, "extra.bias"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.WrongShape, "context_embedder.weight"), (x.Kind, x.Name)),
            x => Assert.Equal((TensorIssueKind.WrongDType, "single_transformer_blocks.0.attn.norm_q.weight"), (x.Kind, x.Name)));
        Assert.Contains("expected BF16 or F16 or F32 [128, 384]", t.Validation.Issues.Single(x => x.Kind == TensorIssueKind.Missing).Detail);
        Assert.Contains("is I16", t.Validation.Issues.Single(x => x.Kind == TensorIssueKind.WrongDType).Detail);
    }

    [Fact]
    public void SingleFileWhoseShapesCannotBeInferredIsAProblem()
    {
        using var dir = new TempDirectory();
        var path = dir.File("tiny.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("tiny_klein.bfl.safetensors"), path,
            v => v.Name == "double_blocks.1.txt_mlp.2.weight" ? null : SafeTensorsRewrite.Keep(v));
        var i = CheckpointInspector.Inspect(path);
        Assert.False(i.IsComplete);
        Assert.Null(i.Transformer);
        Assert.Contains("double_blocks.1.txt_mlp.2.weight", Assert.Single(i.Components[0].Problems));
    }

    [Fact]
    public void PrefixedNamesAreStrippedAndReported()
    {
        using var dir = new TempDirectory();
        var path = dir.File("comfy.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("tiny_dev.bfl.safetensors"), path,
            v => ("model.diffusion_model." + v.Name, v.DType, v.Shape, v.ToByteArray()));
        var i = CheckpointInspector.Inspect(path);
        Assert.True(i.IsComplete);
        Assert.Equal("model.diffusion_model.", i.Transformer!.Prefix);
        Assert.Equal(TensorNaming.Bfl, i.Transformer.Naming);
    }

    [Fact]
    public void Nvfp4WeightWithoutItsTensorScaleIsMissingOne()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("nvfp4_dev.bfl.safetensors"), path,
            v => v.Name == "single_blocks.0.linear1.weight_scale_2" ? null : SafeTensorsRewrite.Keep(v));
        var t = CheckpointInspector.Inspect(path).Transformer!;
        var issue = Assert.Single(t.Validation.Issues);
        Assert.Equal((TensorIssueKind.Missing, "single_blocks.0.linear1.weight_scale_2"), (issue.Kind, issue.Name));
        Assert.DoesNotContain(t.QuantizedLinears, q => q.Name == "single_blocks.0.linear1");
    }

    [Fact]
    public void NonFiniteScaleIsInvalid()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("fp8_klein.bfl.safetensors"), path,
            v => v.Name == "double_blocks.1.txt_mlp.0.weight_scale"
                ? (v.Name, v.DType, v.Shape, BitConverter.GetBytes(float.NaN))
                : SafeTensorsRewrite.Keep(v));
        var t = CheckpointInspector.Inspect(path).Transformer!;
        var issue = Assert.Single(t.Validation.Issues);
        Assert.Equal((TensorIssueKind.Invalid, "double_blocks.1.txt_mlp.0.weight"), (issue.Kind, issue.Name));
        Assert.Contains("finite", issue.Detail);
    }

    [Fact]
    public void Fp8WeightWithoutAnyScaleIsMissingIt()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("fp8_klein.bfl.safetensors"), path,
            v => v.Name == "single_blocks.1.linear2.weight_scale" ? null : SafeTensorsRewrite.Keep(v));
        var issue = Assert.Single(CheckpointInspector.Inspect(path).Transformer!.Validation.Issues);
        Assert.Equal((TensorIssueKind.Missing, "single_blocks.1.linear2.weight_scale"), (issue.Kind, issue.Name));
    }

    [Fact]
    public void LegacyFp8ScaleNamesAreAccepted()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q.safetensors");
        SafeTensorsRewrite.Rewrite(Fixtures.Golden("fp8_klein.bfl.safetensors"), path,
            v => (v.Name.Replace(".weight_scale", ".scale_weight").Replace(".input_scale", ".scale_input"), v.DType, v.Shape, v.ToByteArray()));
        var i = CheckpointInspector.Inspect(path);
        Assert.True(i.IsComplete);
        Assert.Equal(20, i.Transformer!.QuantizedLinears.Count);
    }

    [Fact]
    public void MetadataContradictingADoubleBlockIsAProblem()
    {
        using var dir = new TempDirectory();
        var path = dir.File("q.safetensors");
        using (var f = Core.SafeTensors.SafeTensorsFile.Open(Fixtures.Golden("nvfp4_dev.bfl.safetensors")))
        {
            var layers = QuantizationMetadata.ParseLayers(f.Metadata[QuantizationMetadata.Key], f.FilePath).ToDictionary();
            layers["double_blocks.0.txt_attn.qkv"] = QuantizationMetadata.Nvfp4Format;
            var metadata = f.Metadata.ToDictionary();
            metadata[QuantizationMetadata.Key] = QuantizationMetadata.Build(layers);
            SafeTensorsRewrite.Rewrite(f.FilePath, path, SafeTensorsRewrite.Keep, metadata: metadata);
        }
        var i = CheckpointInspector.Inspect(path);
        Assert.False(i.IsComplete);
        Assert.Null(i.Transformer!.DoubleBlockPlan);
        Assert.Contains("double_blocks.0.txt_attn.qkv", Assert.Single(i.Transformer.Problems));
    }

    [Fact]
    public void WeightsThatAreNotWhatTheFolderDeclaresAreAProblem()
    {
        using var dir = new TempDirectory();
        var folder = System.IO.Path.Combine(dir.Path, "transformer");
        GoldenRepository.Text(System.IO.Path.Combine(folder, "config.json"), GoldenRepository.ConfigJson("tiny_dev"));
        GoldenRepository.Copy(Fixtures.Golden("vae_small.bfl.safetensors"), System.IO.Path.Combine(folder, "diffusion_pytorch_model.safetensors"));
        var c = CheckpointInspector.Inspect(folder).Components.Single();
        Assert.Equal(ComponentKind.Transformer, c.Kind);
        Assert.Contains("the weights hold a VAE", Assert.Single(c.Problems));
    }

    /// <summary>The rules generate applies to the scheduler config, so that a folder info calls complete also loads.</summary>
    [Theory]
    [InlineData("""{"_class_name": "EulerDiscreteScheduler"}""", "scheduler 'EulerDiscreteScheduler' is not FlowMatchEulerDiscreteScheduler")]
    [InlineData("""{"_class_name": "FlowMatchEulerDiscreteScheduler", "use_dynamic_shifting": false}""", "use_dynamic_shifting is false")]
    [InlineData("[]", "not a JSON object")]
    public void ASchedulerConfigOfAnotherSamplerIsAProblem(string config, string problem)
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        var path = System.IO.Path.Combine(dir.Path, "scheduler", "scheduler_config.json");
        File.WriteAllText(path, config);

        var i = CheckpointInspector.Inspect(dir.Path);
        Assert.False(i.IsComplete);
        var scheduler = i.Components.Single(c => c.Name == "scheduler");
        Assert.StartsWith($"{path}: {problem}", Assert.Single(scheduler.Problems));
    }

    [Fact]
    public void RepositoryWithMissingPartsIsIncomplete()
    {
        using var dir = new TempDirectory();
        GoldenRepository.WriteDev(dir.Path);
        Directory.Delete(System.IO.Path.Combine(dir.Path, "vae"), recursive: true);
        File.Delete(System.IO.Path.Combine(dir.Path, "tokenizer", "tokenizer.json"));
        File.Delete(System.IO.Path.Combine(dir.Path, "text_encoder", "model.safetensors"));
        var index = File.ReadAllText(System.IO.Path.Combine(dir.Path, "model_index.json"));
        File.WriteAllText(System.IO.Path.Combine(dir.Path, "model_index.json"),
            index.Replace("\"scheduler\": [\n    \"diffusers\",\n    \"FlowMatchEulerDiscreteScheduler\"\n  ],", ""));

        var i = CheckpointInspector.Inspect(dir.Path);
        Assert.False(i.IsComplete);
        Assert.Contains("model_index.json declares no 'scheduler' component", i.Problems);
        var problems = i.Components.ToDictionary(c => c.Name, c => string.Join("; ", c.Problems));
        Assert.Contains("is missing", problems["vae"]);
        Assert.Contains("no tokenizer.json", problems["tokenizer"]);
        Assert.Contains("no weights", problems["text_encoder"]);
        Assert.Equal("", problems["transformer"]);
    }
}
