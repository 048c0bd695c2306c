using Flux2.Core;
using Flux2.Core.Decoding;
using Flux2.Core.Numerics;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Models.Quantization;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Quantization;

public unsafe class Flux2CheckpointQuantizerTests
{
    [Fact]
    public void Nvfp4RoundTripDequantizesToWhatTheCodecComputes()
    {
        using var dir = new TempDirectory();
        var summary = Flux2CheckpointQuantizer.Quantize(Fixtures.Golden("tiny_dev.bfl.safetensors"), dir.File("q.safetensors"), QuantizedCheckpointFormat.Nvfp4);
        Assert.Equal(16, summary.QuantizedLayers.Count);
        using var source = SafeTensorsCheckpoint.Open(Fixtures.Golden("tiny_dev.bfl.safetensors"));
        using var output = SafeTensorsCheckpoint.Open(dir.File("q.safetensors"));
        Assert.Equal(source.Names.Count + 2 * summary.QuantizedLayers.Count, output.Names.Count);

        foreach (var name in source.Names)
        {
            string layer = name[..name.LastIndexOf('.')];
            if (!summary.QuantizedLayers.Contains(layer))
            {
                Assert.Equal(source.Get(name).ToByteArray(), output.Get(name).ToByteArray());
                continue;
            }
            var original = source.Get(name);
            int n = (int)original.Shape[0], k = (int)original.Shape[1], blocks = k / 16;
            var w = LinearWeightLoader.Load(output, name);
            Assert.Equal((WeightFormat.Nvfp4, true, n, k), (w.Format, w.ScalesSwizzled, w.OutFeatures, w.InFeatures));
            var q = Nvfp4Quantizer.Quantize(original.ToFloat32Array(), n, k, name);
            Assert.Equal(q.Weight, output.Get(name).ToByteArray());
            var logical = Nvfp4ScaleLayout.Deswizzle(output.Get(layer + ".weight_scale").AsSpan<byte>(), n, blocks);
            var row = new float[k];
            fixed (float* r = row)
            {
                for (int i = 0; i < n; i++)
                {
                    WeightRowDecoder.Decode(w, i, 0, k, r);
                    for (int j = 0; j < k; j++)
                    {
                        byte b = q.Weight[(i * k + j) / 2];
                        float expected = E2M1.Decode(j % 2 == 0 ? b >> 4 : b & 0xF) * E4M3.Decode(logical[i * blocks + j / 16]) * q.WeightScale2;
                        if (BitConverter.SingleToUInt32Bits(expected) != BitConverter.SingleToUInt32Bits(row[j]))
                            Assert.Fail($"{name}[{i}, {j}]: decoded {row[j]:R}, codec {expected:R}");
                    }
                }
            }
        }
        var plan = Flux2QuantizationPlan.Create(Flux2ConfigInference.Load(output), output);
        Assert.Equal(16, plan.Config.Nvfp4LayersBfl.Count);
        Assert.All(plan.DoubleBlocks, b => Assert.Equal([true, true, false, false, true, true], b.Fields.Select(f => f != null)));
        Assert.Empty(plan.Warnings);
    }

    [Fact]
    public void Fp8RoundTripQuantizesEveryBlockLinear()
    {
        using var dir = new TempDirectory();
        var summary = Flux2CheckpointQuantizer.Quantize(Fixtures.Golden("tiny_klein.bfl.safetensors"), dir.File("q.safetensors"), QuantizedCheckpointFormat.Fp8);
        using var source = SafeTensorsCheckpoint.Open(Fixtures.Golden("tiny_klein.bfl.safetensors"));
        using var output = SafeTensorsCheckpoint.Open(dir.File("q.safetensors"));
        Assert.Equal(20, summary.QuantizedLayers.Count);
        Assert.Equal(summary.QuantizedLayers.Order(), QuantizationMetadata.ParseLayers(output.Metadata[QuantizationMetadata.Key], output.Path).Keys.Order());
        foreach (var layer in summary.QuantizedLayers)
        {
            var q = Fp8Quantizer.Quantize(source.Get(layer + ".weight").ToFloat32Array(), layer);
            var w = LinearWeightLoader.Load(output, layer + ".weight");
            Assert.Equal((WeightFormat.Fp8E4M3, q.WeightScale), (w.Format, w.TensorScale));
            Assert.Equal(q.Weight, output.Get(layer + ".weight").ToByteArray());
        }
        Assert.Equal(WeightFormat.BFloat16, LinearWeightLoader.Load(output, "img_in.weight").Format);
        Assert.Null(Flux2QuantizationPlan.Create(Flux2ConfigInference.Load(output), output).Config.QuantConfig);
    }

    [Theory]
    [InlineData(QuantizedCheckpointFormat.Nvfp4)]
    [InlineData(QuantizedCheckpointFormat.Fp8)]
    public void DiffusersInputGivesTheSameFileAsBflInput(QuantizedCheckpointFormat format)
    {
        using var dir = new TempDirectory();
        Flux2CheckpointQuantizer.Quantize(Fixtures.Golden("tiny_dev.bfl.safetensors"), dir.File("bfl.safetensors"), format);
        Flux2CheckpointQuantizer.Quantize(Fixtures.Golden("tiny_dev.diffusers.safetensors"), dir.File("dif.safetensors"), format);
        using var a = SafeTensorsCheckpoint.Open(dir.File("bfl.safetensors"));
        using var b = SafeTensorsCheckpoint.Open(dir.File("dif.safetensors"));
        Assert.Equal(a.Names.Order(), b.Names.Order());
        foreach (var n in a.Names)
        {
            Assert.Equal(a.Info(n).DType, b.Info(n).DType);
            Assert.Equal(a.Info(n).Shape, b.Info(n).Shape);
            Assert.True(a.Get(n).AsSpan<byte>().SequenceEqual(b.Get(n).AsSpan<byte>()), n);
        }
        Assert.Equal(a.Metadata[QuantizationMetadata.Key], b.Metadata[QuantizationMetadata.Key]);
    }

    [Fact]
    public void QuantizedInputIsRefusedAndNothingIsWritten()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<QuantizationException>(() =>
            Flux2CheckpointQuantizer.Quantize(Fixtures.Golden("fp8_klein.bfl.safetensors"), dir.File("q.safetensors"), QuantizedCheckpointFormat.Nvfp4));
        Assert.Contains("F8_E4M3", e.Message);
        Assert.Contains("fp8_klein.bfl.safetensors", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void ExtraTensorsAreNotDroppedSilently()
    {
        using var dir = new TempDirectory();
        using (var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("tiny_klein.bfl.safetensors")))
        {
            var w = new SafeTensorsWriter();
            foreach (var n in c.Names) w.Add(n, c.Info(n).DType, c.Info(n).Shape, c.Get(n).AsSpan<byte>());
            w.AddFloat32("double_blocks.0.img_attn.proj.bias", [4], [1, 2, 3, 4]);
            w.Write(dir.File("in.safetensors"));
        }
        var e = Assert.Throws<QuantizationException>(() =>
            Flux2CheckpointQuantizer.Quantize(dir.File("in.safetensors"), dir.File("q.safetensors"), QuantizedCheckpointFormat.Fp8));
        Assert.Contains("'double_blocks.0.img_attn.proj.bias'", e.Message);
        Assert.False(File.Exists(dir.File("q.safetensors")));
    }
}
