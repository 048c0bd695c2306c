using System.Reflection;
using System.Text.Json;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Vae;
using Flux2.Tests;

namespace Flux2.Models.Tests.Vae;

public sealed class AutoencoderKLFlux2GoldenTests : IDisposable
{
    private readonly VaeGolden _golden = new();

    public void Dispose() => _golden.Dispose();

    [Theory]
    [InlineData("diffusers")]
    [InlineData("bfl")]
    public void Encode_matches_the_golden_latents(string naming)
    {
        using var vae = VaeGolden.Load(naming);
        Assert.Equal(naming == "bfl" ? VaeNaming.Bfl : VaeNaming.Diffusers, vae.Naming);
        using var image = _golden.Float("inputs.image");
        var traced = new List<string>();
        using var moments = vae.EncodeMoments(image, _golden.Checker(traced));
        Assert.Equal(["enc.conv_in", "enc.down_blocks.0", "enc.down_blocks.1", "enc.down_blocks.2", "enc.down_blocks.3",
            "enc.mid_block", "enc.conv_out"], traced);
        _golden.AssertClose("outputs.encoder_moments", moments);
        using var mean = vae.MeanOf(moments);
        _golden.AssertClose("outputs.latent_mean", mean);
        using var patchified = VaeLatents.Patchify(mean);
        _golden.AssertClose("outputs.latent_patchified", patchified);
        using var normalized = vae.Statistics.Normalize(patchified);
        _golden.AssertClose("outputs.latent_normalized", normalized);
        using var packed = VaeLatents.Pack(normalized);
        _golden.AssertClose("outputs.latent_packed", packed);
        using var tokens = vae.EncodeToTokens(image);
        Assert.Equal(packed.ToArray<float>(), tokens.ToArray<float>());
    }

    [Theory]
    [InlineData("diffusers")]
    [InlineData("bfl")]
    public void Decode_matches_the_golden_image(string naming)
    {
        using var vae = VaeGolden.Load(naming);
        using var packed = _golden.Float("inputs.decoder_latents_packed");
        using var ids = _golden.Long("inputs.decoder_latent_ids");
        using var unpacked = VaeLatents.UnpackWithIds(packed, ids);
        _golden.AssertClose("trace.decoder_latents_unpacked", unpacked);
        using var denormalized = vae.Statistics.Denormalize(unpacked);
        _golden.AssertClose("trace.decoder_latents_denormalized", denormalized);
        using var latents = VaeLatents.Unpatchify(denormalized);
        _golden.AssertClose("trace.decoder_latents_unpatchified", latents);

        var traced = new List<string>();
        using var decoded = vae.Decode(latents, _golden.Checker(traced));
        Assert.Equal(["dec.post_quant_conv", "dec.conv_in", "dec.mid_block", "dec.up_blocks.0", "dec.up_blocks.1",
            "dec.up_blocks.2", "dec.up_blocks.3"], traced);
        _golden.AssertClose("outputs.decoded", decoded, VaeGolden.DecodedAtol);
        _golden.AssertClose("outputs.decoded_bfl", decoded, VaeGolden.DecodedAtol);
        using var viaTokens = vae.DecodeTokens(packed, 4, 4);
        Assert.Equal(decoded.ToArray<float>(), viaTokens.ToArray<float>());

        using var unit = VaeImages.ToUnitFloat(decoded);
        _golden.AssertClose("outputs.image_float", unit);
        using var rgb = VaeImages.ToRgb(decoded);
        AssertRgbMatches(unit.ToArray<float>(), rgb.ToArray<byte>(), _golden.Io.Get("outputs.image_uint8").ToByteArray());
    }

    /// <summary>Exact, except that a pixel whose value·255 lies within 0.05 of a .5 rounding boundary may be 1 LSB off.</summary>
    private static void AssertRgbMatches(float[] unit, byte[] actual, byte[] expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        int nearBoundary = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            if (actual[i] == expected[i]) continue;
            float scaled = unit[i] * 255f;
            bool ambiguous = Math.Abs(scaled - MathF.Floor(scaled) - 0.5f) < 0.05f;
            Assert.True(ambiguous && Math.Abs(actual[i] - expected[i]) == 1,
                $"pixel {i}: {actual[i]} vs golden {expected[i]} (value·255 = {scaled})");
            nearBoundary++;
        }
        Assert.True(nearBoundary <= expected.Length / 100, $"{nearBoundary} pixels differ");
    }

    [Fact]
    public void Config_json_and_inferred_config_agree()
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden("vae_small.json")));
        var fromJson = VaeConfig.FromJson(json.RootElement.GetProperty("config.json"), "vae_small.json");
        using var vae = VaeGolden.Load("bfl");
        Assert.Equal(fromJson.BlockOutChannels, vae.Config.BlockOutChannels);
        Assert.Equal(fromJson with { BlockOutChannels = vae.Config.BlockOutChannels }, vae.Config);
        Assert.Equal([32, 32, 64, 64], fromJson.BlockOutChannels);
        Assert.Equal(1, fromJson.LayersPerBlock);
        Assert.Equal(32, fromJson.LatentChannels);
    }

    [Fact]
    public void A_diffusers_folder_loads_with_its_config_json()
    {
        using var dir = new TempDirectory();
        using (var json = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden("vae_small.json"))))
            File.WriteAllText(dir.File("config.json"), json.RootElement.GetProperty("config.json").GetRawText());
        File.Copy(VaeGolden.WeightsPath("diffusers"), dir.File(AutoencoderKLFlux2.DiffusersWeightsFile));
        using var vae = AutoencoderKLFlux2.Load(dir.Path, VaeGolden.Backend);
        using var image = _golden.Float("inputs.image");
        using var mean = vae.EncodeMean(image);
        _golden.AssertClose("outputs.latent_mean", mean);
    }

    [Fact]
    public void Encoding_twice_gives_identical_latents()
    {
        using var vae = VaeGolden.Load("diffusers");
        using var image = _golden.Float("inputs.image");
        using var first = vae.EncodeToTokens(image);
        using var second = vae.EncodeToTokens(image);
        Assert.Equal(first.ToArray<float>(), second.ToArray<float>());
    }

    [Fact]
    public void Symmetric_downsample_padding_fails_the_golden()
    {
        // The same encoder with every stride-2 conv padded (1, 1, 1, 1): output sizes agree, values must not.
        var backend = SymmetricPaddingBackend.Wrap(VaeGolden.Backend);
        VaeConfig config;
        using (var reference = VaeGolden.Load("diffusers")) config = reference.Config;
        using var vae = new AutoencoderKLFlux2(Flux2.Core.SafeTensors.SafeTensorsCheckpoint.Open(VaeGolden.WeightsPath("diffusers")), config, backend);
        using var image = _golden.Float("inputs.image");
        using var mean = vae.EncodeMean(image);
        var expected = _golden.Io.Get("outputs.latent_mean").ToFloat32Array();
        Assert.True(FloatComparison.MaxAbsDiff(expected, mean.AsSpan<float>()) > 1e-2f);
        Assert.Equal(new Conv2dPadding(0, 1, 0, 1), AutoencoderKLFlux2.DownsamplePadding);
    }

    /// <summary>Forwards every op, replacing the padding of stride-2 convolutions by a symmetric 1.</summary>
    public class SymmetricPaddingBackend : DispatchProxy
    {
        private IBackend _inner = null!;

        public static IBackend Wrap(IBackend inner)
        {
            var proxy = Create<IBackend, SymmetricPaddingBackend>();
            ((SymmetricPaddingBackend)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? method, object?[]? args)
        {
            if (method!.Name == nameof(IBackend.Conv2d) && (int)args![4]! == 2) args[5] = Conv2dPadding.All(1);
            try { return method.Invoke(_inner, args); }
            catch (TargetInvocationException e) when (e.InnerException != null) { throw e.InnerException; }
        }
    }
}
