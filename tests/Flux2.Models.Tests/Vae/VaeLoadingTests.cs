using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Core.SafeTensors;
using Flux2.Models.Vae;
using Flux2.Tests;

namespace Flux2.Models.Tests.Vae;

/// <summary>Variants of the vae_small weights: other float dtypes, missing, mis-shaped or extra tensors, bad statistics.</summary>
public sealed class VaeLoadingTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly VaeGolden _golden = new();

    public void Dispose()
    {
        _golden.Dispose();
        _dir.Dispose();
    }

    /// <summary>Writes the golden weights of <paramref name="naming"/> through <paramref name="change"/>, which may
    /// return the tensor (shape, fp32 values) to store, null to drop it; <paramref name="store"/> picks the dtype.</summary>
    private string Variant(string naming, Func<string, long[], float[], (long[] Shape, float[] Values)?> change,
        Func<string, DType>? store = null, params (string Name, long[] Shape, float[] Values)[] extra)
    {
        var writer = new SafeTensorsWriter();
        using (var source = SafeTensorsFile.Open(VaeGolden.WeightsPath(naming)))
        {
            foreach (var name in source.Names)
            {
                var view = source.Get(name);
                if (change(name, view.Shape, view.ToFloat32Array()) is not { } t) continue;
                Add(writer, name, store?.Invoke(name) ?? DType.Float32, t.Shape, t.Values);
            }
        }
        foreach (var (name, shape, values) in extra) Add(writer, name, DType.Float32, shape, values);
        var path = _dir.File($"variant-{Guid.NewGuid():N}.safetensors");
        writer.Write(path);
        return path;
    }

    private static void Add(SafeTensorsWriter writer, string name, DType dtype, long[] shape, float[] values)
    {
        switch (dtype)
        {
            case DType.BFloat16: writer.Add(name, dtype, shape, (ReadOnlySpan<ushort>)values.Select(BFloat16Bits.FromFloat).ToArray()); break;
            case DType.Float16: writer.Add(name, dtype, shape, (ReadOnlySpan<Half>)values.Select(v => (Half)v).ToArray()); break;
            default: writer.AddFloat32(name, shape, values); break;
        }
    }

    private static float Round(float v, DType dtype) =>
        dtype == DType.BFloat16 ? BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(v)) : (float)(Half)v;

    [Theory]
    [InlineData("bfl", DType.BFloat16)]
    [InlineData("diffusers", DType.Float16)]
    public void Half_precision_weights_decode_like_their_fp32_values(string naming, DType dtype)
    {
        // Every tensor stored in the half format vs. the same rounded values stored as fp32: identical math.
        var half = Variant(naming, (_, shape, v) => (shape, v), _ => dtype);
        var rounded = Variant(naming, (_, shape, v) => (shape, v.Select(x => Round(x, dtype)).ToArray()));
        using var a = AutoencoderKLFlux2.Load(half, VaeGolden.Cpu);
        using var b = AutoencoderKLFlux2.Load(rounded, VaeGolden.Cpu);
        using var image = _golden.Float("inputs.image");
        using var ta = a.EncodeToTokens(image);
        using var tb = b.EncodeToTokens(image);
        Assert.True(FloatComparison.MaxAbsDiff(tb.AsSpan<float>(), ta.AsSpan<float>()) <= 1e-5f);
        using var packed = _golden.Float("inputs.decoder_latents_packed");
        using var da = a.DecodeTokens(packed, 4, 4);
        using var db = b.DecodeTokens(packed, 4, 4);
        Assert.True(FloatComparison.MaxAbsDiff(db.AsSpan<float>(), da.AsSpan<float>()) <= 1e-5f);
        // And close to the fp32 golden, within the rounding of the weights.
        _golden.AssertClose("outputs.decoded", da, 0.1f);
    }

    [Theory]
    [InlineData("diffusers", "decoder.up_blocks.2.resnets.0.conv_shortcut.bias")]
    [InlineData("bfl", "decoder.up.1.block.0.nin_shortcut.weight")]
    [InlineData("bfl", "encoder.mid.attn_1.proj_out.weight")]
    [InlineData("diffusers", "quant_conv.weight")]
    public void A_missing_tensor_is_named(string naming, string missing)
    {
        var path = Variant(naming, (name, shape, v) => name == missing ? null : (shape, v));
        var e = Assert.Throws<SafeTensorsException>(() => AutoencoderKLFlux2.Load(path, VaeGolden.Cpu));
        Assert.Equal(missing, e.TensorName);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void A_wrong_shape_is_named()
    {
        const string target = "encoder.down_blocks.1.resnets.0.conv2.weight";
        var path = Variant("diffusers", (name, shape, v) => name == target ? ([32, 32, 1, 9], v) : (shape, v));
        var e = Assert.Throws<SafeTensorsException>(() => AutoencoderKLFlux2.Load(path, VaeGolden.Cpu));
        Assert.Equal(target, e.TensorName);
        Assert.Contains("expected [32, 32, 3, 3]", e.Message);
    }

    [Fact]
    public void An_unexpected_tensor_is_named()
    {
        var path = Variant("bfl", (_, shape, v) => (shape, v), extra: ("decoder.up.3.block.2.conv1.weight", [1], [0f]));
        var e = Assert.Throws<SafeTensorsException>(() => AutoencoderKLFlux2.Load(path, VaeGolden.Cpu));
        Assert.Equal("decoder.up.3.block.2.conv1.weight", e.TensorName);
    }

    [Fact]
    public void A_config_json_that_disagrees_with_the_weights_names_the_first_mismatch()
    {
        var config = _dir.File("config.json");
        File.WriteAllText(config, """{ "block_out_channels": [32, 64, 64, 64], "layers_per_block": 1, "latent_channels": 32 }""");
        var e = Assert.Throws<SafeTensorsException>(() => AutoencoderKLFlux2.Load(VaeGolden.WeightsPath("diffusers"), VaeGolden.Cpu, config));
        Assert.Equal("encoder.down_blocks.1.resnets.0.conv1.weight", e.TensorName);
        File.WriteAllText(config, """{ "act_fn": "relu" }""");
        Assert.Contains("act_fn", Assert.Throws<VaeException>(() => AutoencoderKLFlux2.Load(VaeGolden.WeightsPath("diffusers"), VaeGolden.Cpu, config)).Message);
        File.WriteAllText(config, """{ "block_out_channels": [32, 48] }""");
        Assert.Contains("48", Assert.Throws<VaeException>(() => AutoencoderKLFlux2.Load(VaeGolden.WeightsPath("diffusers"), VaeGolden.Cpu, config)).Message);
    }

    [Fact]
    public void Other_checkpoints_are_not_taken_for_a_vae()
    {
        var e = Assert.Throws<VaeException>(() => AutoencoderKLFlux2.Load(Fixtures.Golden("tiny_klein.bfl.safetensors"), VaeGolden.Cpu));
        Assert.Contains("not a FLUX.2 VAE", e.Message);
        Assert.Throws<VaeException>(() => AutoencoderKLFlux2.Load(_dir.File("absent.safetensors"), VaeGolden.Cpu));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Missing_or_zero_statistics_refuse_to_decode_but_still_encode(bool zeros)
    {
        var path = Variant("bfl", (name, shape, v) => !name.StartsWith("bn.") ? (shape, v) : zeros ? (shape, new float[v.Length]) : null);
        using var vae = AutoencoderKLFlux2.Load(path, VaeGolden.Cpu);
        using var image = _golden.Float("inputs.image");
        using var mean = vae.EncodeMean(image);
        _golden.AssertClose("outputs.latent_mean", mean);
        using var packed = _golden.Float("inputs.decoder_latents_packed");
        var e = Assert.Throws<VaeException>(() => vae.DecodeTokens(packed, 4, 4));
        Assert.Contains(zeros ? "all zero" : "no latent statistics", e.Message);
        Assert.Throws<VaeException>(() => vae.EncodeToTokens(image));
    }

    [Fact]
    public void Bad_images_and_latents_are_named_errors()
    {
        using var vae = VaeGolden.Load("diffusers");
        using var notMultiple = Tensor.Zeros(1, 3, 64, 56);
        Assert.Contains("56x64", Assert.Throws<VaeException>(() => vae.EncodeMoments(notMultiple)).Message);
        using var fourChannels = Tensor.Zeros(1, 4, 64, 64);
        Assert.Throws<VaeException>(() => vae.EncodeMoments(fourChannels));
        using var wrongLatent = Tensor.Zeros(1, 16, 4, 4);
        Assert.Throws<VaeException>(() => vae.Decode(wrongLatent));
    }
}
