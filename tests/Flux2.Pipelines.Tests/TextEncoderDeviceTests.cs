using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.TextEncoders;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>
/// <see cref="PipelineConfig.TextEncoderDevice"/>: the text encoder on its own backend, the transformer and the VAE on the
/// pipeline's. The opaque backend stands in for a GPU (it refuses tensors another backend allocated), so an embedding that
/// did not cross to the pipeline's backend fails these tests; the CPU and the opaque backend compute alike, so the images
/// must be those of a pipeline with everything on one device, bit for bit.
/// </summary>
public sealed class TextEncoderDeviceTests(TinyKleinBaseModel model) : IClassFixture<TinyKleinBaseModel>
{
    private static readonly DeviceRef Gpu = OpaqueBackend.SimulatedDevice;

    private static GenerationRequest Request() => new()
    {
        Prompt = "a lighthouse at dusk",
        NegativePrompt = "blurry", // klein-base with guidance > 1: the negative prompt is encoded too
        Width = 32,
        Height = 32,
        Steps = 2,
        Guidance = 4.0,
        Seed = 11,
        NumImages = 2,
    };

    private Flux2Pipeline Load(IBackendFactory backends, DeviceRef device, DeviceRef? textEncoderDevice, PipelineOptions? options = null) =>
        Flux2Pipeline.Load(new PipelineConfig { ModelPath = model.Folder, Devices = [device], TextEncoderDevice = textEncoderDevice }, backends, options);

    private GenerationResult Reference()
    {
        using var pipeline = Load(new Factory(), DeviceRef.Cpu(), null);
        return pipeline.Generate(Request());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheEncoderRunsOnItsDeviceAndTheImagesAreThoseOfOneDevice(bool encoderOnTheCpu)
    {
        var expected = Reference();
        var backends = new Factory();
        var (device, encoderDevice) = encoderOnTheCpu ? (Gpu, DeviceRef.Cpu()) : (DeviceRef.Cpu(), Gpu);
        using var pipeline = Load(backends, device, encoderDevice);
        Assert.Equal(device, pipeline.Backend.Device);
        Assert.Equal(encoderDevice, pipeline.TextEncoderBackend!.Device);

        var result = pipeline.Generate(Request());
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(expected.Images[i].Latents, result.Images[i].Latents);
            Assert.Equal(expected.Images[i].Image.Pixels, result.Images[i].Image.Pixels);
        }
        // The prompts (positive and negative) went through the encoder's backend only; the transformer never looked a token up.
        Assert.Equal(2, backends.Made[encoderDevice].EmbeddingLookups);
        Assert.Equal(0, backends.Made[device].EmbeddingLookups);
        // An embedding the pipeline hands out lives on its backend, as a request's precomputed embeddings must.
        using var embedding = pipeline.EncodePrompt("a lighthouse at dusk");
        Assert.Equal(TinyModelFolders.TextHidden * 3, pipeline.Backend.DownloadFloat32(embedding.Embeddings).Length / 512);
    }

    /// <summary>Through the prompt cache: the first generation computes the prompts and keeps them, the second finds them, and
    /// both cross to the pipeline's backend and give the one-device images.</summary>
    [Fact]
    public void CachedPromptsCrossToo()
    {
        var expected = Reference();
        var cache = new PromptEmbeddingCache();
        var backends = new Factory();
        using var pipeline = Load(backends, Gpu, DeviceRef.Cpu(), new PipelineOptions { PromptCache = cache });
        foreach (int hits in new[] { 0, 2 })
        {
            var result = pipeline.Generate(Request());
            Assert.Equal(hits, cache.Hits);
            Assert.Equal(expected.Images[1].Image.Pixels, result.Images[1].Image.Pixels);
        }
        Assert.Equal(2, backends.Made[DeviceRef.Cpu()].EmbeddingLookups);
    }

    [Fact]
    public void TheEncodersBackendIsReleasedWithTheEncoder()
    {
        var backends = new Factory();
        using (var pipeline = Load(backends, Gpu, DeviceRef.Cpu(), new PipelineOptions { ReleaseTextEncoderAfterUse = true }))
        {
            pipeline.Generate(Request());
            Assert.Null(pipeline.TextEncoderBackend);
            Assert.True(backends.Made[DeviceRef.Cpu()].Disposed);
            Assert.False(backends.Made[Gpu].Disposed);
        }
        Assert.True(backends.Made[Gpu].Disposed);

        // Without the release, disposing the pipeline frees both.
        backends = new Factory();
        Load(backends, Gpu, DeviceRef.Cpu()).Dispose();
        Assert.All(backends.Made.Values, b => Assert.True(b.Disposed));
    }

    [Fact]
    public void TheSameDeviceGivenAgainMakesNoSecondBackend()
    {
        var backends = new Factory();
        using var pipeline = Load(backends, Gpu, Gpu);
        Assert.Single(backends.Made);
        Assert.Same(pipeline.Backend, pipeline.TextEncoderBackend);
    }

    [Fact]
    public void AnEncoderDeviceThatCannotRunIsNamedAndNothingIsLeftOpen()
    {
        var backends = new Factory();
        var e = Assert.Throws<BackendUnavailableException>(() => Load(backends, Gpu, DeviceRef.Gpu(3)));
        Assert.StartsWith("the text encoder's device: gpu:3: ", e.Message);
        Assert.True(backends.Made[Gpu].Disposed);
    }

    /// <summary><see cref="PipelineOptions.TextEncoderFallbackDevice"/>: on a device that reports its memory, an encoder whose
    /// weights leave the activation reserve of what is free stays; one byte more and it runs on the fallback device, with a
    /// note, and the images are still those of one device.</summary>
    [Theory]
    [InlineData(0L)]
    [InlineData(-1L)]
    public void AnEncoderTooLargeForWhatTheGpuHasFreeRunsOnTheFallbackDevice(long spare)
    {
        long bytes = DeviceMemoryFit.TextEncoderBytes(TextEncoderFiles.ReadConfig(Path.Combine(model.Folder, "text_encoder")).Config,
            TestBackends.Create(TestBackends.Opaque).Precision);
        var backends = TestBackends.TwoDevices(gpuFreeBytes: bytes + DeviceMemoryFit.ActivationReserve + spare);
        using var pipeline = Load(backends, Gpu, null, new PipelineOptions { TextEncoderFallbackDevice = DeviceRef.Cpu() });
        if (spare == 0)
        {
            Assert.Same(pipeline.Backend, pipeline.TextEncoderBackend);
            Assert.Empty(pipeline.LoadWarnings);
            return;
        }
        Assert.Equal(DeviceRef.Cpu(), pipeline.TextEncoderBackend!.Device);
        Assert.Matches(@"^the text encoder's weights \(0\.0 GB\) do not fit in the 4\.3 GB free on gpu:7 with 4 GiB kept for activations; it runs on cpu:0$",
            Assert.Single(pipeline.LoadWarnings));
        var expected = Reference();
        Assert.Equal(expected.Images[1].Image.Pixels, pipeline.Generate(Request()).Images[1].Image.Pixels);
    }

    [Fact]
    public void TheEncoderStaysWhereItIsPutWithoutAFallbackOrAMemoryReport()
    {
        var fallback = new PipelineOptions { TextEncoderFallbackDevice = DeviceRef.Cpu() };
        // No fallback device; the device given explicitly; a backend that does not report its memory.
        using (var noFallback = Load(TestBackends.TwoDevices(gpuFreeBytes: 0), Gpu, null)) Assert.Equal(Gpu, noFallback.TextEncoderBackend!.Device);
        using (var given = Load(TestBackends.TwoDevices(gpuFreeBytes: 0), Gpu, Gpu, fallback)) Assert.Equal(Gpu, given.TextEncoderBackend!.Device);
        using (var unreported = Load(TestBackends.TwoDevices(), Gpu, null, fallback)) Assert.Equal(Gpu, unreported.TextEncoderBackend!.Device);
    }

    /// <summary><see cref="TestBackends.TwoDevices"/>, every backend made kept by device.</summary>
    private sealed class Factory : IBackendFactory
    {
        public Dictionary<DeviceRef, Recording> Made { get; } = [];

        public IBackend Create(DeviceRef device) => Made[device] = new Recording(TestBackends.TwoDevices().Create(device));
    }

    private sealed class Recording(IBackend inner) : DelegatingBackend(inner)
    {
        public int EmbeddingLookups { get; private set; }
        public bool Disposed { get; private set; }

        public override void EmbeddingLookup(LinearWeight table, Tensor ids, Tensor output)
        {
            EmbeddingLookups++;
            base.EmbeddingLookup(table, ids, output);
        }

        public override void Dispose()
        {
            Disposed = true;
            base.Dispose();
        }
    }
}
