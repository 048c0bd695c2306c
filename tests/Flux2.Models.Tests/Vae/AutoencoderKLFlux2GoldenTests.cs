using System.Text.Json;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Vae;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Vae;

/// <summary>The VAE against the vae_small golden case in both namings, through the CPU backend and the opaque test backend.</summary>
public sealed class AutoencoderKLFlux2GoldenTests
{
    public static IEnumerable<object[]> Cases =>
        from naming in new[] { "diffusers", "bfl" } from backend in TestBackends.Names select new object[] { naming, backend };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Encode_matches_thegolden_latents(string naming, string backend)
    {
        using var golden = new VaeGolden(backend);
        var be = golden.Backend;
        using var vae = golden.LoadOnBackend(naming);
        Assert.Equal(naming == "bfl" ? VaeNaming.Bfl : VaeNaming.Diffusers, vae.Naming);
        using var image = golden.Float("inputs.image");
        var traced = new List<string>();
        using var moments = vae.EncodeMoments(image, golden.Checker(traced));
        Assert.Equal(["enc.conv_in", "enc.down_blocks.0", "enc.down_blocks.1", "enc.down_blocks.2", "enc.down_blocks.3",
            "enc.mid_block", "enc.conv_out"], traced);
        golden.AssertClose("outputs.encoder_moments", moments);
        using var mean = vae.MeanOf(moments);
        golden.AssertClose("outputs.latent_mean", mean);
        using var patchified = VaeLatents.Patchify(be, mean);
        golden.AssertClose("outputs.latent_patchified", patchified);
        using var normalized = vae.Statistics.Normalize(patchified);
        golden.AssertClose("outputs.latent_normalized", normalized);
        using var packed = VaeLatents.Pack(be, normalized);
        golden.AssertClose("outputs.latent_packed", packed);
        using var tokens = vae.EncodeToTokens(image);
        Assert.Equal(golden.Values<float>(packed), golden.Values<float>(tokens));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Decode_matches_thegolden_image(string naming, string backend)
    {
        using var golden = new VaeGolden(backend);
        var be = golden.Backend;
        using var vae = golden.LoadOnBackend(naming);
        using var packed = golden.Float("inputs.decoder_latents_packed");
        using var unpacked = VaeLatents.UnpackWithIds(be, packed, golden.Longs("inputs.decoder_latent_ids"), golden.Shape("inputs.decoder_latent_ids"));
        golden.AssertClose("trace.decoder_latents_unpacked", unpacked);
        using var denormalized = vae.Statistics.Denormalize(unpacked);
        golden.AssertClose("trace.decoder_latents_denormalized", denormalized);
        using var latents = VaeLatents.Unpatchify(be, denormalized);
        golden.AssertClose("trace.decoder_latents_unpatchified", latents);

        var traced = new List<string>();
        using var decoded = vae.Decode(latents, golden.Checker(traced));
        Assert.Equal(["dec.post_quant_conv", "dec.conv_in", "dec.mid_block", "dec.up_blocks.0", "dec.up_blocks.1",
            "dec.up_blocks.2", "dec.up_blocks.3"], traced);
        golden.AssertClose("outputs.decoded", decoded, VaeGolden.DecodedAtol);
        golden.AssertClose("outputs.decoded_bfl", decoded, VaeGolden.DecodedAtol);
        using var viaTokens = vae.DecodeTokens(packed, 4, 4);
        Assert.Equal(golden.Values<float>(decoded), golden.Values<float>(viaTokens));

        using var unit = VaeImages.ToUnitFloat(be, decoded);
        golden.AssertClose("outputs.image_float", unit);
        using var rgb = VaeImages.ToRgb(be, decoded);
        AssertRgbMatches(golden.Values<float>(unit), golden.Values<byte>(rgb), golden.Io.Get("outputs.image_uint8").ToByteArray());
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
        using var golden = new VaeGolden();
        using var dir = new TempDirectory();
        using (var json = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden("vae_small.json"))))
            File.WriteAllText(dir.File("config.json"), json.RootElement.GetProperty("config.json").GetRawText());
        File.Copy(VaeGolden.WeightsPath("diffusers"), dir.File(AutoencoderKLFlux2.DiffusersWeightsFile));
        using var vae = AutoencoderKLFlux2.Load(dir.Path, VaeGolden.Cpu);
        using var image = golden.Float("inputs.image");
        using var mean = vae.EncodeMean(image);
        golden.AssertClose("outputs.latent_mean", mean);
    }

    [Fact]
    public void Encoding_twice_gives_identical_latents()
    {
        using var golden = new VaeGolden();
        using var vae = VaeGolden.Load("diffusers");
        using var image = golden.Float("inputs.image");
        using var first = vae.EncodeToTokens(image);
        using var second = vae.EncodeToTokens(image);
        Assert.Equal(first.ToArray<float>(), second.ToArray<float>());
    }

    [Fact]
    public void Symmetric_downsample_padding_fails_the_golden()
    {
        using var golden = new VaeGolden();
        // The same encoder with every stride-2 conv padded (1, 1, 1, 1): output sizes agree, values must not.
        var backend = new SymmetricPaddingBackend(VaeGolden.Cpu);
        VaeConfig config;
        using (var reference = VaeGolden.Load("diffusers")) config = reference.Config;
        using var vae = new AutoencoderKLFlux2(Flux2.Core.SafeTensors.SafeTensorsCheckpoint.Open(VaeGolden.WeightsPath("diffusers")), config, backend);
        using var image = golden.Float("inputs.image");
        using var mean = vae.EncodeMean(image);
        var expected = golden.Io.Get("outputs.latent_mean").ToFloat32Array();
        Assert.True(FloatComparison.MaxAbsDiff(expected, mean.AsSpan<float>()) > 1e-2f);
        Assert.Equal(new Conv2dPadding(0, 1, 0, 1), AutoencoderKLFlux2.DownsamplePadding);
    }

    /// <summary>Forwards every op, replacing the padding of stride-2 convolutions by a symmetric 1.</summary>
    private sealed class SymmetricPaddingBackend(IBackend inner) : DelegatingBackend(inner)
    {
        public override void Conv2d(Tensor x, LinearWeight weight, int kernelSize, Tensor bias, int stride, Conv2dPadding padding, Tensor y,
            bool accumulate = false) =>
            base.Conv2d(x, weight, kernelSize, bias, stride, stride == 2 ? Conv2dPadding.All(1) : padding, y, accumulate);
    }
}
