using Flux2.Core.Backend;

namespace Flux2.Pipelines.Tests;

/// <summary>The published models' GPU footprints counted from their tensor lists, and what fits which card.</summary>
public sealed class DeviceMemoryFitTests
{
    private static ModelFootprint Model(string name, ComputePrecision precision = ComputePrecision.BFloat16) =>
        DeviceMemoryFit.Published(precision).Single(m => m.Model == name);

    [Fact]
    public void TheFootprintsAreThePublishedModelsParameterCountsInBf16()
    {
        // klein-4B's transformer has 3.88 B parameters (the step benchmark's random weights: 7.75 GB); Qwen3-4B up to layer
        // 27: the 151936 × 2560 embedding and 27 layers of 100.9 M; the VAE 84 M parameters (ae.safetensors: 336 MB in fp32).
        var klein = Model("FLUX.2-klein-4B");
        Assert.InRange(klein.Transformer, 7.70e9, 7.80e9);
        long layer = 2560L * (4096 + 2 * 1024) + 4096L * 2560 + 3L * 2560 * 9728 + 2 * 2560 + 2 * 128;
        Assert.Equal(2 * (151936L * 2560 + 27 * layer), klein.TextEncoder);
        Assert.InRange(klein.Vae, 0.16e9, 0.17e9);
        // dev: 32 B parameters (64 GB) and Mistral-Small's first 30 of 40 layers.
        var dev = Model("FLUX.2-dev");
        Assert.InRange(dev.Transformer, 60e9, 68e9);
        Assert.InRange(dev.TextEncoder, 30e9, 40e9);
        Assert.Equal(2 * Model("FLUX.2-klein-9B").Transformer, Model("FLUX.2-klein-9B", ComputePrecision.Float32).Transformer);
    }

    [Fact]
    public void ServeNeedsTheThreeModelsTogetherAndGenerateOneModelAtATimeBesideTheVae()
    {
        var klein = Model("FLUX.2-klein-4B");
        Assert.True(DeviceMemoryFit.FitsResident(klein, klein.Total + DeviceMemoryFit.ActivationReserve));
        Assert.False(DeviceMemoryFit.FitsResident(klein, klein.Total + DeviceMemoryFit.ActivationReserve - 1));
        long oneAtATime = klein.Vae + klein.Transformer + DeviceMemoryFit.ActivationReserve; // its transformer is the larger
        Assert.True(DeviceMemoryFit.FitsOneAfterTheOther(klein, oneAtATime));
        Assert.False(DeviceMemoryFit.FitsOneAfterTheOther(klein, oneAtATime - 1));
        // dev on an 80 GB H100: generate only; on a 141 GB H200: everything.
        var dev = Model("FLUX.2-dev");
        Assert.False(DeviceMemoryFit.FitsResident(dev, 79_000_000_000));
        Assert.True(DeviceMemoryFit.FitsOneAfterTheOther(dev, 79_000_000_000));
        Assert.True(DeviceMemoryFit.FitsResident(dev, 140_000_000_000));
        Assert.True(DeviceMemoryFit.FitsResident(Model("FLUX.2-klein-9B"), 79_000_000_000));
    }

    /// <summary>The published FP8 layer set (every block Linear) at one byte per weight: about half the bf16 transformer, so
    /// dev's FP8 checkpoint with its text encoder fits an 80 GB card all resident.</summary>
    [Fact]
    public void AnFp8TransformerKeepsItsBlockLinearsAtOneBytePerWeight()
    {
        var dev = Model("FLUX.2-dev");
        var devFp8 = Model("FLUX.2-dev FP8 (sm_89+)");
        Assert.InRange((double)devFp8.Transformer / dev.Transformer, 0.5, 0.55);
        Assert.Equal(dev.TextEncoder, devFp8.TextEncoder);
        Assert.True(DeviceMemoryFit.FitsResident(devFp8, 79_000_000_000));
        Assert.InRange(Model("FLUX.2-klein-4B FP8 (sm_89+)").Transformer, 3.9e9, 4.3e9);
        Assert.DoesNotContain(DeviceMemoryFit.Published(ComputePrecision.Float32), m => m.Model.Contains("FP8"));
    }

    /// <summary>With the text encoder on the CPU only the transformer and the VAE need the card: dev's FP8 transformer is
    /// smaller than its Mistral encoder, so a card that holds the two but not the encoder beside the VAE serves it that way.</summary>
    [Fact]
    public void WithTheTextEncoderOnTheCpuTheTransformerAndTheVaeMustFit()
    {
        var devFp8 = Model("FLUX.2-dev FP8 (sm_89+)");
        Assert.True(devFp8.TextEncoder > devFp8.Transformer);
        long card = devFp8.Transformer + devFp8.Vae + DeviceMemoryFit.ActivationReserve;
        Assert.True(DeviceMemoryFit.FitsWithoutTheTextEncoder(devFp8, card));
        Assert.False(DeviceMemoryFit.FitsWithoutTheTextEncoder(devFp8, card - 1));
        Assert.False(DeviceMemoryFit.FitsOneAfterTheOther(devFp8, card));
        var line = DeviceMemoryFit.Describe(card, ComputePrecision.BFloat16).Single(l => l.StartsWith("FLUX.2-dev FP8", StringComparison.Ordinal));
        Assert.EndsWith("fits with the text encoder on the CPU (generate and serve put it there)", line);
    }

    [Fact]
    public void TheReportHasOneLinePerModel()
    {
        var lines = DeviceMemoryFit.Describe(75_000_000_000, ComputePrecision.BFloat16).ToList();
        Assert.Equal(6, lines.Count);
        Assert.Matches(@"^FLUX\.2-klein-4B: 7\.\d GB transformer \+ 6\.\d GB text encoder \+ 0\.2 GB VAE: fits all resident \(serve, generate\)$", lines[0]);
        Assert.EndsWith("fits generate (encoder released before the transformer loads); serve runs the text encoder on the CPU", lines[2]);
        Assert.EndsWith("does not fit", DeviceMemoryFit.Describe(10_000_000_000, ComputePrecision.BFloat16).Last());
    }
}
