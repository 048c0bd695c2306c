using Flux2.Backends;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Pipelines.Config;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests.Config;

/// <summary>The one path from a front end to a backend: <see cref="PipelineConfig"/> → <see cref="Flux2ArchConfig"/> → the
/// transformer's <see cref="Models.Flux2Config"/>, whose first device the backend factory is asked for.</summary>
public sealed class CompositionTests(TinyDevModel model) : IClassFixture<TinyDevModel>
{
    private sealed class RecordingFactory : IBackendFactory
    {
        public List<DeviceRef> Asked { get; } = [];

        public IBackend Create(DeviceRef device)
        {
            Asked.Add(device);
            return TestBackends.Create(TestBackends.Cpu);
        }
    }

    [Fact]
    public void TheBackendComesFromTheModelConfigsDevice()
    {
        var factory = new RecordingFactory();
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = model.Folder, Devices = [DeviceRef.Gpu(3)] }, factory);
        Assert.Equal([DeviceRef.Gpu(3)], factory.Asked);
        Assert.Equal([DeviceRef.Gpu(3)], pipeline.Config.ModelConfig!.Devices);
        Assert.Same(Flux2Architectures.Dev, pipeline.Config.Architecture);
        Assert.Equal("bfloat16", pipeline.Config.Encoding);
        Assert.Equal(model.Folder, pipeline.Source);
    }

    [Fact]
    public void TheEncodingReachesTheModelConfig()
    {
        using var pipeline = Flux2Pipeline.Load(new PipelineConfig { ModelPath = model.Folder, QuantizationEncoding = "float32" },
            TestBackends.Factory(TestBackends.Cpu));
        Assert.Equal(DType.Float32, pipeline.Config.ModelConfig!.DType);
    }

    [Fact]
    public void AnArchitectureThatIsNotTheModelsIsRefused()
    {
        var e = Assert.Throws<PipelineConfigException>(() => Flux2Pipeline.Load(
            new PipelineConfig { ModelPath = model.Folder, Architecture = Flux2Architectures.Klein.Name }, new RecordingFactory()));
        Assert.Contains("Flux2Pipeline, not the Flux2KleinPipeline", e.Message);
    }

    [Fact]
    public void OnlyOneDeviceIsRun()
    {
        var factory = new RecordingFactory();
        var e = Assert.Throws<PipelineConfigException>(() => Flux2Pipeline.Load(
            new PipelineConfig { ModelPath = model.Folder, Devices = [DeviceRef.Gpu(0), DeviceRef.Gpu(1)] }, factory));
        Assert.Contains("one device", e.Message);
        Assert.Empty(factory.Asked);
    }

    [Fact]
    public void TheBuiltInFactoryNamesTheGpuItCannotUse()
    {
        var e = Assert.Throws<BackendUnavailableException>(() => Flux2Pipeline.Load(
            new PipelineConfig { ModelPath = model.Folder, Devices = [DeviceRef.Gpu(99)] }, new BackendFactory()));
        Assert.StartsWith("gpu:99: ", e.Message);
        using var exact = new BackendFactory(new BackendOptions { CpuThreads = 1, Precision = ComputePrecision.Float32 }).Create(DeviceRef.Cpu());
        Assert.Equal("cpu (1 threads)", exact.Name);
        Assert.Equal(ComputePrecision.Float32, exact.Precision);
    }

    [Fact]
    public void TheFactoryDefaultsToBf16ProductsWhereTheProcessorHasThem()
    {
        using var fast = new BackendFactory().Create(DeviceRef.Cpu());
        using var probe = new Flux2.Cpu.CpuBackend(precision: ComputePrecision.BFloat16);
        Assert.Equal(probe.Precision, fast.Precision);
    }
}
