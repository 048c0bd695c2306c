using Flux2.Core;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>
/// A FLUX.2 transformer from a GGUF file: tests/fixtures/gguf/tiny_klein.gguf is the tiny_klein golden (BFL names, as
/// ComfyUI-GGUF converts single files) written by ggml, its Linear weights quantized by ggml to Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
/// Q4_K, Q5_K and Q6_K (one BF16, one F16), the norm scales F32. Its output must be that of the same model with every weight
/// given as its decoded F32 values, bit for bit (the blocks are decoded inside the GEMM, not expanded at load), and stay near the golden.
/// </summary>
public class Flux2TransformerGgufTests
{
    private static string GgufPath => Fixtures.File("gguf", "tiny_klein.gguf");

    public static IEnumerable<object[]> Backends => TestBackends.Names.Select(b => new object[] { b });

    [Theory]
    [MemberData(nameof(Backends))]
    public void QuantizedWeightsGiveTheOutputOfTheirDecodedValues(string backend)
    {
        using var golden = new TransformerGolden("tiny_klein", backend);
        using var temp = new TempDirectory();
        string decoded = temp.File("decoded.safetensors");
        GgufDecoding.WriteDecoded(GgufPath, decoded);

        using var quantized = Flux2Transformer.Load(GgufPath, golden.Backend);
        using var reference = Flux2Transformer.Load(decoded, golden.Backend);
        using var output = golden.Run(quantized);
        using var expected = golden.Run(reference);
        float[] actual = golden.Values(output);
        // The panels hold the same values either way (decoded from the blocks, or read from the F32 copy), so the bits agree.
        Assert.Equal(golden.Values(expected), actual);

        // The quantization's own error against the bf16 golden: 0.055 relative L2 (the weights' errors are 0.5 % for Q8_0 up
        // to 8.6 % for Q4_0 on these 128-wide random rows); a misread block would be of the order of 1.
        double distance = FloatComparison.RelativeL2(golden.Expected("outputs.sample"), actual);
        Assert.True(distance is > 1e-3 and < 0.1, $"relative L2 distance to the golden {distance}");
    }

    [Fact]
    public void LinearWeightsStayInTheirBlocks()
    {
        using var checkpoint = SafeTensorsCheckpoint.Open(GgufPath);
        var linear = Core.Quantization.LinearWeightLoader.Load(checkpoint, "single_blocks.1.linear2.weight");
        Assert.Equal(WeightFormat.GgmlBlocks, linear.Format);
        Assert.Equal(GgmlType.Q6_K, linear.BlockType);
        Assert.Equal((128, 512), (linear.OutFeatures, linear.InFeatures));
        Assert.Equal(checkpoint.Info("single_blocks.1.linear2.weight").ByteLength, linear.DataBytes);
        Assert.Equal(WeightFormat.BFloat16, Core.Quantization.LinearWeightLoader.Load(checkpoint, "final_layer.linear.weight").Format);
        Assert.Equal(WeightFormat.Float16, Core.Quantization.LinearWeightLoader.Load(checkpoint, "txt_in.weight").Format);
    }
}
