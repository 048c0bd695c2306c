using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.Quantization;

public class LinearWeightLoaderTests
{
    [Fact]
    public void DetectsNvfp4FromTheGoldenCheckpoint()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("nvfp4_dev.bfl.safetensors"));
        var w = LinearWeightLoader.Load(c, "double_blocks.0.img_attn.qkv.weight");
        Assert.Equal(WeightFormat.Nvfp4, w.Format);
        Assert.Equal((384, 128), (w.OutFeatures, w.InFeatures));
        Assert.True(w.ScalesSwizzled);
        Assert.Equal(8, w.ScaleColumns);
        Assert.Equal(c.Get("double_blocks.0.img_attn.qkv.weight_scale_2").AsSpan<float>()[0], w.TensorScale);
        Assert.Equal(c.Get("double_blocks.0.img_attn.qkv.weight").Data, w.Data);
        Assert.Equal(c.Get("double_blocks.0.img_attn.qkv.weight_scale").Data, w.BlockScales);
        Assert.Equal(WeightFormat.BFloat16, LinearWeightLoader.Load(c, "double_blocks.0.txt_attn.qkv.weight").Format);
    }

    [Fact]
    public void DetectsFp8FromTheGoldenCheckpoint()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("fp8_klein.bfl.safetensors"));
        var w = LinearWeightLoader.Load(c, "single_blocks.1.linear2.weight");
        Assert.Equal(WeightFormat.Fp8E4M3, w.Format);
        Assert.Equal(c.Get("single_blocks.1.linear2.weight_scale").AsSpan<float>()[0], w.TensorScale);
        Assert.Equal(WeightFormat.BFloat16, LinearWeightLoader.Load(c, "img_in.weight").Format);
    }

    [Fact]
    public void PlainScalesOfNonTileShapesAreNotSwizzled()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("quant_codec.safetensors"));
        var plain = LinearWeightLoader.Load(c, "nvfp4.plain_128x48.weight");
        Assert.Equal((false, 3, 48), (plain.ScalesSwizzled, plain.ScaleColumns, plain.InFeatures));
        Assert.True(LinearWeightLoader.Load(c, "nvfp4.swz_384x64.weight").ScalesSwizzled);
    }

    [Fact]
    public void AcceptsComfyScaleWeightSpellingAndPaddedSwizzledScales()
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        w.Add("fp8.weight", DType.Float8E4M3, [2, 4], new byte[8]);
        w.AddFloat32("fp8.scale_weight", [], [0.5f]);
        // N = 192 rows, K = 32: padded scales [256, 4] in the swizzled layout.
        w.Add("nv.weight", DType.UInt8, [192, 16], new byte[192 * 16]);
        w.Add("nv.weight_scale", DType.Float8E4M3, [256, 4], new byte[256 * 4]);
        w.AddFloat32("nv.weight_scale_2", [], [2f]);
        w.Write(dir.File("m.safetensors"));
        using var c = SafeTensorsCheckpoint.Open(dir.File("m.safetensors"));
        var fp8 = LinearWeightLoader.Load(c, "fp8.weight");
        Assert.Equal((WeightFormat.Fp8E4M3, 0.5f), (fp8.Format, fp8.TensorScale));
        var nv = LinearWeightLoader.Load(c, "nv.weight");
        Assert.Equal((WeightFormat.Nvfp4, true, 4, 32), (nv.Format, nv.ScalesSwizzled, nv.ScaleColumns, nv.InFeatures));
    }

    public static TheoryData<string, string, string> BrokenQuantizedLinears => new()
    {
        // case, the tensor the error must name, a phrase of the message
        { "fp8 without scale", "fp8.weight", "fp8.weight_scale" },
        { "fp8 scale is bf16", "fp8.weight_scale", "F32 scalar" },
        { "fp8 scale is a vector", "fp8.weight_scale", "F32 scalar" },
        { "nvfp4 without block scales", "nv.weight", "nv.weight_scale" },
        { "nvfp4 block scales are u8", "nv.weight_scale", "F8_E4M3" },
        { "nvfp4 block scales have the wrong shape", "nv.weight_scale", "[128, 2]" },
        { "nvfp4 without weight_scale_2", "nv.weight", "nv.weight_scale_2" },
        { "nvfp4 weight_scale_2 is NaN", "nv.weight_scale_2", "finite" },
        { "nvfp4 K not a multiple of 16", "nv.weight", "multiple of 16" },
    };

    [Theory]
    [MemberData(nameof(BrokenQuantizedLinears))]
    public void BrokenQuantizedLinearsAreTypedErrorsNamingTheTensor(string @case, string tensor, string phrase)
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        switch (@case)
        {
            case "fp8 without scale":
                w.Add("fp8.weight", DType.Float8E4M3, [2, 4], new byte[8]);
                break;
            case "fp8 scale is bf16":
                w.Add("fp8.weight", DType.Float8E4M3, [2, 4], new byte[8]);
                w.Add("fp8.weight_scale", DType.BFloat16, [], new byte[2]);
                break;
            case "fp8 scale is a vector":
                w.Add("fp8.weight", DType.Float8E4M3, [2, 4], new byte[8]);
                w.AddFloat32("fp8.weight_scale", [2], [1f, 1f]);
                break;
            default:
                int packed = @case.Contains("K not") ? 4 : 16;
                w.Add("nv.weight", DType.UInt8, [128, packed], new byte[128 * packed]);
                if (@case != "nvfp4 without block scales")
                {
                    var (dtype, cols) = @case switch
                    {
                        "nvfp4 block scales are u8" => (DType.UInt8, 2),
                        "nvfp4 block scales have the wrong shape" => (DType.Float8E4M3, 3),
                        _ => (DType.Float8E4M3, 2),
                    };
                    w.Add("nv.weight_scale", dtype, [128, cols], new byte[128 * cols]);
                }
                if (@case != "nvfp4 without weight_scale_2")
                    w.AddFloat32("nv.weight_scale_2", [], [@case.Contains("NaN") ? float.NaN : 1f]);
                break;
        }
        w.Write(dir.File("q.safetensors"));
        using var c = SafeTensorsCheckpoint.Open(dir.File("q.safetensors"));
        string weight = @case.StartsWith("fp8", StringComparison.Ordinal) ? "fp8.weight" : "nv.weight";
        var e = Assert.Throws<SafeTensorsException>(() => LinearWeightLoader.Load(c, weight));
        Assert.Equal(tensor, e.TensorName);
        Assert.Contains(phrase, e.Message);
        Assert.Contains("q.safetensors", e.Message);
    }
}
