using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Models.Quantization;
using Flux2.Models.Transformer;
using Flux2.Models.Tests.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Quantization;

public class Flux2QuantizationPlanTests
{
    private static Flux2QuantizationPlan PlanOf(string path)
    {
        using var c = SafeTensorsCheckpoint.Open(path);
        return Flux2QuantizationPlan.Create(Flux2ConfigInference.Load(c), c);
    }

    [Theory]
    [InlineData("nvfp4_dev.bfl.safetensors")]
    [InlineData("nvfp4_dev_nometa.bfl.safetensors")]
    public void BothNvfp4FilesGiveTheSamePlan(string file)
    {
        var plan = PlanOf(Fixtures.Golden(file));
        Assert.Equal(QuantFormat.Nvfp4, plan.Config.QuantConfig?.Format);
        Assert.Equal(file.Contains("nometa") ? 0 : 16, plan.Config.Nvfp4LayersBfl.Count);
        Assert.All(plan.DoubleBlocks, b => Assert.Equal([true, true, false, false, true, true], b.Fields.Select(f => f != null)));
        Assert.Empty(plan.Warnings);
    }

    [Theory]
    [InlineData("fp8_klein.bfl.safetensors")]
    [InlineData("tiny_dev.bfl.safetensors")]
    [InlineData("tiny_dev.diffusers.safetensors")]
    public void Fp8AndFloatCheckpointsHaveNoNvfp4Plan(string file)
    {
        var plan = PlanOf(Fixtures.Golden(file));
        Assert.Null(plan.Config.QuantConfig);
        Assert.All(plan.DoubleBlocks, b => Assert.All(b.Fields, Assert.Null));
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void MetadataListingABf16DoubleBlockLayerIsAnError()
    {
        using var dir = new TempDirectory();
        var path = CopyWithMetadata(dir.File("m.safetensors"), layers => layers.Append("double_blocks.1.txt_attn.qkv"));
        var e = Assert.Throws<QuantizationException>(() => PlanOf(path));
        Assert.Contains("'double_blocks.1.txt_attn.qkv.weight' is stored as BF16", e.Message);
        Assert.Contains("as NVFP4", e.Message);
        Assert.Contains("m.safetensors", e.Message);
    }

    [Fact]
    public void MetadataOmittingAStoredNvfp4DoubleBlockLayerIsAnError()
    {
        // Ff governs img_mlp.0 and img_mlp.2: dropping the key makes both planned bf16 although they are NVFP4.
        using var dir = new TempDirectory();
        var path = CopyWithMetadata(dir.File("m.safetensors"), layers => layers.Where(l => l != "double_blocks.0.img_mlp.0"));
        var e = Assert.Throws<QuantizationException>(() => PlanOf(path));
        Assert.Contains("'double_blocks.0.img_mlp.0.weight' is stored as NVFP4", e.Message);
        Assert.Contains("unquantized", e.Message);
    }

    [Fact]
    public void SingleBlockMismatchIsOnlyAWarning()
    {
        using var dir = new TempDirectory();
        var path = CopyWithMetadata(dir.File("m.safetensors"), layers => layers.Where(l => l != "single_blocks.1.linear2"));
        var plan = PlanOf(path);
        var warning = Assert.Single(plan.Warnings);
        Assert.Contains("single_blocks.1.linear2.weight", warning);
        Assert.Contains("used as stored", warning);
    }

    [Fact]
    public void TheLoadedTransformerKeepsThePlanWarnings()
    {
        using var dir = new TempDirectory();
        var path = CopyWithMetadata(dir.File("m.safetensors"), layers => layers.Where(l => l != "single_blocks.1.linear2"));
        using (var model = Flux2Transformer.Load(path, TransformerGolden.Cpu))
            Assert.Contains("single_blocks.1.linear2.weight", Assert.Single(model.LoadWarnings));
        using var clean = Flux2Transformer.Load(Fixtures.Golden("nvfp4_dev.bfl.safetensors"), TransformerGolden.Cpu);
        Assert.Empty(clean.LoadWarnings);
    }

    [Fact]
    public void AnNvfp4RunOnABf16CheckpointIsAnError()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("tiny_dev.bfl.safetensors"));
        var config = Flux2ConfigInference.Load(c) with { QuantConfig = QuantConfig.MakeNvfp4Config(4) };
        var e = Assert.Throws<QuantizationException>(() => Flux2QuantizationPlan.Create(config, c));
        Assert.Contains("legacy NVFP4 fallback", e.Message);
    }

    /// <summary>nvfp4_dev with its tensors unchanged and the metadata's layer list rewritten.</summary>
    private static string CopyWithMetadata(string path, Func<IEnumerable<string>, IEnumerable<string>> edit)
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("nvfp4_dev.bfl.safetensors"));
        var w = new SafeTensorsWriter();
        foreach (var n in c.Names)
        {
            var v = c.Get(n);
            w.Add(n, v.DType, v.Shape, v.AsSpan<byte>());
        }
        var layers = edit(QuantizationMetadata.ReadNvfp4Layers(c).Order(StringComparer.Ordinal));
        w.Metadata[QuantizationMetadata.Key] = QuantizationMetadata.Build(layers.Select(l => KeyValuePair.Create(l, "nvfp4")));
        w.Write(path);
        return path;
    }
}
