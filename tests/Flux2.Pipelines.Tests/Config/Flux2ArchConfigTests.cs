using Flux2.Core;
using Flux2.Models;
using Flux2.Models.Checkpoints;
using Flux2.Pipelines.Config;

namespace Flux2.Pipelines.Tests.Config;

public class Flux2ArchConfigTests
{
    private static PipelineConfig Pipeline(string architecture, params DeviceRef[] devices) =>
        new() { ModelPath = "/models/flux2", Architecture = architecture, Devices = devices.Length == 0 ? [DeviceRef.Cpu()] : devices };

    [Fact]
    public void ConstantsFollowMax()
    {
        Assert.Equal("bfloat16", Flux2ArchConfig.DefaultEncoding);
        Assert.Equal(new HashSet<string> { "bfloat16", "float4_e2m1fnx2" }, Flux2ArchConfig.SupportedEncodings);
        Assert.Equal(512, Flux2ArchConfig.TextSeqLen);
        // MAX registers dev and klein; klein 9B-KV (spec §3.11), which MAX does not run, comes after them.
        Assert.Equal(["Flux2Pipeline", "Flux2KleinPipeline", "Flux2KleinKVPipeline"], Flux2Architectures.All.Select(a => a.Name));
    }

    [Fact]
    public void MaxSeqLenIsAlways512()
    {
        var config = Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline"));
        Assert.Equal(512, config.GetMaxSeqLen());
        Assert.Equal(512, Flux2ArchConfig.CalculateMaxSeqLen(config.PipelineConfig));
        Assert.Equal(512, Flux2ArchConfig.CalculateMaxSeqLen(Pipeline("Flux2KleinPipeline"), Flux2Config.Klein9B()));
    }

    [Fact]
    public void InitializeWrapsThePipelineConfig()
    {
        var pipeline = Pipeline("Flux2KleinPipeline") with { QuantizationEncoding = "float4_e2m1fnx2" };
        var model = Flux2Config.Klein4B();
        var config = Flux2ArchConfig.Initialize(pipeline, model);
        Assert.Same(pipeline, config.PipelineConfig);
        Assert.Same(model, config.ModelConfig);
        Assert.Same(Flux2Architectures.Klein, config.Architecture);
        Assert.Equal("float4_e2m1fnx2", config.Encoding);
        Assert.Null(Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline")).ModelConfig);
        Assert.Equal("bfloat16", Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline")).Encoding);
    }

    [Fact]
    public void DevAllowsSeveralDevicesKleinDoesNot()
    {
        var dev = Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline", DeviceRef.Gpu(0), DeviceRef.Gpu(1)));
        Assert.Equal(2, dev.PipelineConfig.Devices.Count);
        var e = Assert.Throws<PipelineConfigException>(() => Flux2ArchConfig.Initialize(Pipeline("Flux2KleinPipeline", DeviceRef.Gpu(0), DeviceRef.Gpu(1))));
        Assert.Contains("Flux2KleinPipeline runs on one device", e.Message);
        Assert.Contains("gpu:1", e.Message);
        Assert.IsAssignableFrom<Flux2Exception>(e);
        Assert.Throws<PipelineConfigException>(() => Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline") with { Devices = [] }));
    }

    [Fact]
    public void UnknownArchitectureAndEncodingAreRejected()
    {
        var e = Assert.Throws<PipelineConfigException>(() => Flux2ArchConfig.Initialize(Pipeline("FluxPipeline")));
        Assert.Contains("'FluxPipeline'", e.Message);
        Assert.Contains("Flux2KleinPipeline", e.Message);
        var enc = Assert.Throws<PipelineConfigException>(() => Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline") with { QuantizationEncoding = "int4" }));
        Assert.Contains("'int4'", enc.Message);
        // The C# additions of spec §2.2 are accepted.
        Assert.Equal("float32", Flux2ArchConfig.Initialize(Pipeline("Flux2Pipeline") with { QuantizationEncoding = "float32" }).Encoding);
        Assert.Equal("float8_e4m3fn", Flux2ArchConfig.Initialize(Pipeline("Flux2KleinPipeline") with { QuantizationEncoding = "float8_e4m3fn" }).Encoding);
    }

    [Fact]
    public void RegisteredArchitecturesDescribeTheirPipelines()
    {
        foreach (var a in Flux2Architectures.All)
        {
            Assert.Equal("pixel generation", a.Task);
            Assert.Equal(["text", "image"], a.Inputs);
            Assert.Equal("safetensors", a.WeightsFormat);
            Assert.Equal("Flux2Tokenizer", a.Tokenizer);
            Assert.Equal(Flux2ArchConfig.DefaultEncoding, a.DefaultEncoding);
            Assert.Same(Flux2ArchConfig.SupportedEncodings, a.SupportedEncodings);
            Assert.Same(a, Flux2Architectures.Get(a.Name));
        }
        Assert.Same(Flux2Architectures.Dev, Flux2Architectures.For(Flux2Model.Dev));
        Assert.Same(Flux2Architectures.Klein, Flux2Architectures.For(Flux2Model.Klein4B));
        Assert.Same(Flux2Architectures.Klein, Flux2Architectures.For(Flux2Model.Klein9B));
        Assert.Null(Flux2Architectures.Find("StableDiffusionPipeline"));
    }
}
