using Flux2.Models.Checkpoints;

namespace Flux2.Models.Tests.Checkpoints;

public class Flux2VariantTests
{
    [Theory]
    [InlineData("flux-2-klein-4b.safetensors", true)]
    [InlineData("flux-2-klein-base-9b.safetensors", false)]
    [InlineData("FLUX-2-KLEIN-BASE-4B.safetensors", false)]
    [InlineData("flux-2-klein-9b-kv.safetensors", true)]
    [InlineData("flux2-dev.safetensors", null)]
    [InlineData("diffusion_pytorch_model.safetensors", null)]
    public void DistillationFromBflFileNames(string file, bool? distilled) =>
        Assert.Equal(distilled, Flux2Variant.DistilledFromFileName(file));

    [Theory]
    [InlineData("flux-2-klein-9b-kv.safetensors", true)]
    [InlineData("FLUX.2-klein-9B-KV-fp8.safetensors", true)]
    [InlineData("flux-2-klein-9b.safetensors", false)]
    [InlineData("flux-2-klein-kvasir-4b.safetensors", false)]
    [InlineData("flux2-dev-kv.safetensors", false)]
    public void ReferenceKvFromBflFileNames(string file, bool kv) =>
        Assert.Equal(kv, Flux2Variant.ReferenceKvFromFileName(file));

    [Fact]
    public void PresetsMatchThemselvesOnly()
    {
        foreach (var m in Enum.GetValues<Flux2Model>())
            Assert.Equal(m, Flux2Variant.Match(Flux2Variant.Preset(m)));
        // dtype, devices and quantization do not change the architecture.
        Assert.Equal(Flux2Model.Klein4B, Flux2Variant.Match(Flux2Config.Klein4B() with { DType = Core.DType.Float32 }));
    }

    [Fact]
    public void OtherShapesAreCustom()
    {
        Assert.Null(Flux2Variant.Match(Flux2Config.Dev() with { GuidanceEmbeds = false }));
        Assert.Null(Flux2Variant.Match(Flux2Config.Klein9B() with { NumSingleLayers = 23 }));
        Assert.Null(Flux2Variant.Match(Flux2Config.Klein4B() with { JointAttentionDim = 7681 }));
    }

    [Theory]
    [InlineData(Flux2Model.Dev, null, "dev")]
    [InlineData(Flux2Model.Klein4B, true, "klein-4B (distilled)")]
    [InlineData(Flux2Model.Klein9B, false, "klein-base-9B")]
    public void Names(Flux2Model model, bool? distilled, string name) =>
        Assert.Equal(name, new Flux2Variant(model, distilled).Name);

    [Fact]
    public void UnknownDistillationAndCustomAreSaidSo()
    {
        Assert.Contains("not recorded", new Flux2Variant(Flux2Model.Klein9B, null).Name);
        Assert.StartsWith("custom", new Flux2Variant(null, null).Name);
    }
}
