using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Core.Quantization;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>Checkpoints with the real models' tensors (spec §1.1, §4.5), as sparse files: tens of gigabytes that
/// take no disk space. Only headers and quantization scalars are read.</summary>
public class RealShapeTests
{
    private static LinearStorage AllFloat(string name) => LinearStorage.Float;

    [Fact]
    public void ShardedKlein4BRepositoryIsRecognised()
    {
        using var dir = new TempDirectory();
        var root = dir.Path;
        GoldenRepository.WriteDev(root);
        Directory.Delete(System.IO.Path.Combine(root, "transformer"), recursive: true);
        GoldenRepository.Copy(Fixtures.File("configs", "flux2-klein-4b", "model_index.json"), System.IO.Path.Combine(root, "model_index.json"));
        GoldenRepository.Copy(Fixtures.File("configs", "flux2-klein-4b", "transformer", "config.json"), System.IO.Path.Combine(root, "transformer", "config.json"));
        var tensors = TestCheckpoints.RealShapes(Flux2Config.Klein4B(), TensorNaming.Diffusers, AllFloat);
        SparseSafeTensors.WriteSharded(System.IO.Path.Combine(root, "transformer"), "diffusion_pytorch_model",
            [tensors.Take(100).ToList(), tensors.Skip(100).ToList()]);

        var i = CheckpointInspector.Inspect(root);
        Assert.Equal(CheckpointLayout.DiffusersRepository, i.Source.Layout);
        Assert.Equal("klein-4B (distilled)", i.Variant!.Name);
        var c = i.Components.Single(x => x.Name == "transformer");
        Assert.Equal(2, c.ShardCount);
        Assert.Equal(169, c.Tensors!.Count);
        // 3.876 B parameters in bf16 (spec §1.1).
        Assert.InRange(c.Tensors.Bytes / 2, 3_870_000_000L, 3_880_000_000L);
        Assert.Equal(Flux2Model.Klein4B, c.Transformer!.Model);
        Assert.True(c.IsComplete, string.Join("; ", c.Validation!.Issues.Select(x => x.Name)));
        Assert.True(i.IsComplete, string.Join("; ", i.Problems.Concat(i.Components.SelectMany(x => x.Problems))));
    }

    [Fact]
    public void BflDevFileIsRecognisedFromItsShapes()
    {
        using var dir = new TempDirectory();
        var path = dir.File("flux2-dev.safetensors");
        SparseSafeTensors.Write(path, TestCheckpoints.RealShapes(Flux2Config.Dev(), TensorNaming.Bfl, AllFloat));
        var i = CheckpointInspector.Inspect(path);
        Assert.True(i.IsComplete);
        Assert.Equal("dev", i.Variant!.Name);
        Assert.Equal(299, i.Components[0].Tensors!.Count);
        Assert.InRange(i.Components[0].Tensors!.Bytes / 2, 32_210_000_000L, 32_230_000_000L);
        Assert.Equal("inferred from tensor shapes", i.Transformer!.ConfigSource);
        Assert.Equal(Flux2Config.Dev().JointAttentionDim, i.Transformer.Config.JointAttentionDim);
    }

    [Theory]
    [InlineData("flux-2-klein-9b.safetensors", "klein-9B (distilled)")]
    [InlineData("flux-2-klein-base-9b.safetensors", "klein-base-9B")]
    public void BflKleinDistillationComesFromTheFileName(string file, string variant)
    {
        using var dir = new TempDirectory();
        SparseSafeTensors.Write(dir.File(file), TestCheckpoints.RealShapes(Flux2Config.Klein9B(), TensorNaming.Bfl, AllFloat));
        var i = CheckpointInspector.Inspect(dir.File(file));
        Assert.True(i.IsComplete);
        Assert.Equal(variant, i.Variant!.Name);
        Assert.InRange(i.Components[0].Tensors!.Bytes / 2, 9_070_000_000L, 9_090_000_000L);
    }

    [Fact]
    public void IncompleteBflFileIsReportedAgainstThePublishedModel()
    {
        using var dir = new TempDirectory();
        var path = dir.File("flux-2-klein-base-4b.safetensors");
        SparseSafeTensors.Write(path, TestCheckpoints.RealShapes(Flux2Config.Klein4B(), TensorNaming.Bfl, AllFloat)
            .Where(t => t.Name is not "single_blocks.19.linear2.weight" and not "double_blocks.4.img_mlp.0.weight"));
        var i = CheckpointInspector.Inspect(path);
        Assert.False(i.IsComplete);
        Assert.Equal("klein-base-4B", i.Variant!.Name);
        Assert.StartsWith("the published klein-4B configuration", i.Transformer!.ConfigSource);
        Assert.Equal(["double_blocks.4.img_mlp.0.weight", "single_blocks.19.linear2.weight"],
            i.Transformer.Validation.Of(TensorIssueKind.Missing).Select(x => x.Name).Order());
        Assert.Equal(2, i.Transformer.Validation.Issues.Count);
    }

    [Fact]
    public void OfficialDevNvfp4LayoutResolvesItsPlan()
    {
        using var dir = new TempDirectory();
        var dev = Flux2Config.Dev();
        bool Quantized(string weight) =>
            (weight.StartsWith("single_blocks.", StringComparison.Ordinal) && weight.Contains(".linear", StringComparison.Ordinal))
            || (weight.StartsWith("double_blocks.", StringComparison.Ordinal) && !weight.Contains("txt_attn", StringComparison.Ordinal)
                && (weight.Contains("_attn.", StringComparison.Ordinal) || weight.Contains("_mlp.", StringComparison.Ordinal)));
        var tensors = TestCheckpoints.RealShapes(dev, TensorNaming.Bfl, n => Quantized(n) ? LinearStorage.Nvfp4 : LinearStorage.Float);
        var layers = tensors.Where(t => t.DType == DType.UInt8).Select(t => new KeyValuePair<string, string>(t.Name[..^".weight".Length], "nvfp4"));
        var path = dir.File("flux2-dev-nvfp4.safetensors");
        SparseSafeTensors.Write(path, tensors, new Dictionary<string, string> { [QuantizationMetadata.Key] = QuantizationMetadata.Build(layers) });

        var i = CheckpointInspector.Inspect(path);
        Assert.True(i.IsComplete, string.Join("; ", i.Transformer?.Validation.Issues.Select(x => x.Name + " " + x.Detail) ?? i.Components[0].Problems));
        Assert.Equal(731, i.Components[0].Tensors!.Count);
        var t = i.Transformer!;
        Assert.Equal("dev", i.Variant!.Name);
        Assert.Equal(144, t.QuantizedLinears.Count);
        Assert.Equal(144, t.Config.Nvfp4LayersBfl.Count);
        Assert.Equal(8, t.DoubleBlockPlan!.Count);
        Assert.All(t.DoubleBlockPlan, b => Assert.Equal([true, true, false, false, true, true], b.Fields.Select(f => f != null)));
        Assert.Contains(t.QuantizedLinears, q => q is { Name: "single_blocks.0.linear1", OutFeatures: 55296, InFeatures: 6144 });
    }
}
