using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.Vae;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>
/// The whole VAE on the GPU against the vae_small golden case the CPU checks (both checkpoint namings): the encoder from the
/// image to the packed latent tokens, the decoder from the packed tokens to the image, and every traced activation on the
/// way (a row each, so a failure names its layer). Exact mode (fp32 activations and products, no TF32): max abs error
/// within the CPU test's tolerances (1e-4, 2e-4 for the decoded image). bf16 mode (bf16 activations, tensor-core
/// products): relative L2 error ≤ 5e-2, a first bound to be tightened to what the device measures. Skipped without a GPU.
/// </summary>
public sealed class GpuVaeGoldenTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    private const float ExactTolerance = 1e-4f;
    private const float DecodedExactTolerance = 2e-4f;
    private const double BFloat16Tolerance = 5e-2;

    public static TheoryData<string, ComputePrecision> Cases()
    {
        var data = new TheoryData<string, ComputePrecision>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        foreach (var naming in new[] { "diffusers", "bfl" })
            data.Add(naming, precision);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncoderMatchesTheGolden(string naming, ComputePrecision precision)
    {
        using var c = new Case(comparison.Gpu(precision), naming, precision);
        using var image = c.Upload("inputs.image");
        using var moments = c.Vae.EncodeMoments(image, c.Tracer());
        c.Check("outputs.encoder_moments", moments);
        using var mean = c.Vae.MeanOf(moments);
        c.Check("outputs.latent_mean", mean);
        using var tokens = c.Vae.EncodeToTokens(image);
        c.Check("outputs.latent_packed", tokens);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void DecoderMatchesTheGolden(string naming, ComputePrecision precision)
    {
        using var c = new Case(comparison.Gpu(precision), naming, precision);
        using var packed = c.Upload("inputs.decoder_latents_packed");
        var ids = c.Io.Get("inputs.decoder_latent_ids");
        using var unpacked = VaeLatents.UnpackWithIds(c.Gpu, packed, ids.ToInt64Array(), [.. ids.Shape.Select(d => checked((int)d))]);
        using var denormalized = c.Vae.Statistics.Denormalize(unpacked);
        using var latents = VaeLatents.Unpatchify(c.Gpu, denormalized);
        c.Check("trace.decoder_latents_unpatchified", latents);
        using var decoded = c.Vae.Decode(latents, c.Tracer());
        c.Check("outputs.decoded", decoded, DecodedExactTolerance);
        using var unit = VaeImages.ToUnitFloat(c.Gpu, decoded);
        c.Check("outputs.image_float", unit, DecodedExactTolerance);
    }

    /// <summary>The golden io file and the golden VAE of one naming on the GPU of one precision.</summary>
    private sealed class Case(CudaBackend gpu, string naming, ComputePrecision precision) : IDisposable
    {
        public CudaBackend Gpu => gpu;
        public SafeTensorsFile Io { get; } = SafeTensorsFile.Open(Fixtures.Golden("vae_small.io.safetensors"));
        public AutoencoderKLFlux2 Vae { get; } = AutoencoderKLFlux2.Load(Fixtures.Golden($"vae_small.{naming}.safetensors"), gpu);

        public Tensor Upload(string name)
        {
            var view = Io.Get(name);
            return gpu.Upload<float>(view.ToFloat32Array(), [.. view.Shape.Select(d => checked((int)d))]);
        }

        /// <summary>Checks every traced activation that has a golden <c>trace.*</c> counterpart.</summary>
        public VaeTrace Tracer() => (name, value) =>
        {
            if (Io.Contains("trace." + name)) Check("trace." + name, value);
        };

        public void Check(string name, Tensor actual, float exactTolerance = ExactTolerance)
        {
            var golden = Io.Get(name);
            Assert.Equal([.. golden.Shape.Select(d => (int)d)], actual.Shape);
            string op = $"vae_small.{naming} {name}";
            if (precision == ComputePrecision.BFloat16)
                GpuComparison.AssertClose(op, precision, golden.ToFloat32Array(), gpu.DownloadFloat32(actual), BFloat16Tolerance);
            else
                GpuComparison.AssertMaxAbs(op, precision, golden.ToFloat32Array(), gpu.DownloadFloat32(actual), exactTolerance);
        }

        public void Dispose()
        {
            Vae.Dispose();
            Io.Dispose();
        }
    }
}
