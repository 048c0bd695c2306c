using Flux2.Models.Lora;
using Flux2.Models.Transformer;
using Flux2.Tests;
using static Flux2.Models.Tests.Lora.LoraFiles;

namespace Flux2.Models.Tests.Lora;

/// <summary>Adapter files described without a model: their modules, and which of klein-4B, klein-9B and dev they fit (small
/// files with a few modules of the real shapes); a transformer load of one says what it is.</summary>
public class AdapterInspectionTests
{
    [Fact]
    public void ALoraForKlein4BFitsItAlone()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("klein4b.safetensors"),
        [
            .. Pair("transformer.transformer_blocks.0.attn.to_q", 2, 3072, 3072),
            .. Pair("transformer.single_transformer_blocks.3.attn.to_out", 4, 3072, 3072 + 9216, seed: 3),
        ]);
        var a = AdapterInspection.Inspect(file);
        Assert.Equal(4, a.Tensors);
        var lora = Assert.Single(a.Modules);
        Assert.Equal(("LoRA", 2), (lora.Kind, lora.Modules));
        Assert.Equal([2, 4], lora.Sizes);
        Assert.Equal(["diffusers / PEFT"], lora.Spellings);
        Assert.Equal(0, a.OtherTensorCount);
        Assert.Equal(["klein-4B", "klein-9B", "dev"], a.Fits.Select(f => f.Model));
        Assert.Equal((AdapterFitLevel.Fits, 2), (a.Fits[0].Level, a.Fits[0].Layers));
        Assert.Equal(AdapterFitLevel.DoesNotFit, a.Fits[1].Level);
        Assert.Contains("must be [rank, 4096]", a.Fits[1].Detail);
        Assert.Equal(AdapterFitLevel.DoesNotFit, a.Fits[2].Level);
    }

    /// <summary>A LyCORIS file for dev with a LoKr and a LoHa module and a DoRA scale the model has no place for: it fits dev
    /// only leniently, and the DoRA tensor is listed.</summary>
    [Fact]
    public void ALycorisFileForDevWithAnExtraTensorFitsLeniently()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("dev.safetensors"),
        [
            F32("lycoris_double_blocks_0_img_attn_proj.lokr_w1", [16, 16], Values(256, 1)),
            F32("lycoris_double_blocks_0_img_attn_proj.lokr_w2_a", [384, 2], Values(768, 2)),
            F32("lycoris_double_blocks_0_img_attn_proj.lokr_w2_b", [2, 384], Values(768, 3)),
            F32("lycoris_double_blocks_0_img_attn_proj.alpha", [], [1]),
            F32("lora_unet_single_blocks_1_linear2.hada_w1_a", [6144, 2], Values(12288, 4)),
            F32("lora_unet_single_blocks_1_linear2.hada_w1_b", [2, 6144 + 18432], Values(2 * 24576, 5)),
            F32("lora_unet_single_blocks_1_linear2.hada_w2_a", [6144, 2], Values(12288, 6)),
            F32("lora_unet_single_blocks_1_linear2.hada_w2_b", [2, 6144 + 18432], Values(2 * 24576, 7)),
            F32("lora_unet_single_blocks_1_linear2.dora_scale", [6144, 1], Values(6144, 8)),
            F32("lycoris_double_blocks_0_img_attn_proj.lokr_t2", [2, 2], Values(4, 9)),
        ]);
        var a = AdapterInspection.Inspect(file);
        Assert.Equal(["LoHa", "LoKr"], a.Modules.Select(m => m.Kind));
        Assert.Equal([2], a.Modules[0].Sizes);
        Assert.Equal(["kohya"], a.Modules[0].Spellings);
        Assert.Equal([16], a.Modules[1].Sizes);
        Assert.Equal(["LyCORIS"], a.Modules[1].Spellings);
        Assert.Equal([1, 0], a.Modules.Select(m => m.Decomposed));
        Assert.Equal(["lycoris_double_blocks_0_img_attn_proj.lokr_t2"], a.OtherTensors);
        var dev = a.Fits[2];
        Assert.Equal((AdapterFitLevel.FitsLeniently, 2), (dev.Level, dev.Layers));
        Assert.Contains("skipped 1 tensor", dev.Detail);
        Assert.All(a.Fits.Take(2), f => Assert.Equal(AdapterFitLevel.DoesNotFit, f.Level));
    }

    [Fact]
    public void LoadingAnAdapterAsATransformerSaysWhatItIs()
    {
        using var dir = new TempDirectory();
        var file = Write(dir.File("lora.safetensors"), Pair("diffusion_model.double_blocks.0.img_attn.qkv", 2, 3 * D, D));
        Assert.True(AdapterInspection.IsAdapterFile(file));
        Assert.False(AdapterInspection.IsAdapterFile(Fixtures.Golden("tiny_klein.bfl.safetensors")));
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2Transformer.Load(file, Transformer.TransformerGolden.Cpu));
        Assert.Equal($"{file}: a LoRA / LyCORIS adapter, not a FLUX.2 transformer checkpoint; apply it to a model as a LoRA " +
            "(--lora FILE; flux2 info FILE says which models it fits)", e.Message);
    }
}
