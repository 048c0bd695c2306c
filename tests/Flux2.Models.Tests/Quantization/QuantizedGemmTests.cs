using Flux2.Core;
using Flux2.Core.Decoding;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Cpu.Gemm;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Quantization;

/// <summary>The NVFP4 / FP8 row decoders and the GEMM on quantized weights against the golden dequantised F32 weights.</summary>
public unsafe class QuantizedGemmTests
{
    /// <summary>Every quantized-or-not Linear of the case: (BFL weight name, its diffusers weight names whose rows concatenate to it).</summary>
    private static IEnumerable<(string Bfl, IReadOnlyList<string> Diffusers)> LinearPairs(int doubles, int singles)
    {
        var bfl = Flux2TensorNames.Bfl;
        var dif = Flux2TensorNames.Diffusers;
        for (int i = 0; i < doubles; i++)
        {
            foreach (var (b, d) in new[] { (bfl.DoubleImg(i), dif.DoubleImg(i)), (bfl.DoubleTxt(i), dif.DoubleTxt(i)) })
            {
                yield return (b.Qkv[0], d.Qkv);
                yield return (b.Out, [d.Out]);
                yield return (b.MlpIn, [d.MlpIn]);
                yield return (b.MlpOut, [d.MlpOut]);
            }
        }
        for (int j = 0; j < singles; j++)
        {
            yield return (bfl.Single(j).Linear1, [dif.Single(j).Linear1]);
            yield return (bfl.Single(j).Linear2, [dif.Single(j).Linear2]);
        }
    }

    [Theory]
    [InlineData("nvfp4_dev", WeightFormat.Nvfp4, 16)]
    [InlineData("fp8_klein", WeightFormat.Fp8E4M3, 20)]
    public void DecodedRowsEqualTheDequantisedWeightsBitForBit(string @case, WeightFormat format, int quantizedCount)
    {
        using var quant = SafeTensorsCheckpoint.Open(Fixtures.Golden(@case + ".bfl.safetensors"));
        using var dequant = SafeTensorsCheckpoint.Open(Fixtures.Golden(@case + ".dequant.diffusers.safetensors"));
        int quantized = 0;
        foreach (var (bflName, diffusersNames) in LinearPairs(2, 2))
        {
            var w = LinearWeightLoader.Load(quant, bflName);
            if (w.Format != format) continue;
            quantized++;
            var expected = diffusersNames.SelectMany(n => dequant.Get(n).ToFloat32Array()).ToArray();
            Assert.Equal((long)w.OutFeatures * w.InFeatures, expected.Length);
            var row = new float[w.InFeatures];
            var scalar = new float[w.InFeatures];
            fixed (float* r = row, s = scalar)
            {
                for (int n = 0; n < w.OutFeatures; n++)
                {
                    WeightRowDecoder.Decode(w, n, 0, w.InFeatures, r);
                    DecodeScalar(w, n, 0, w.InFeatures, s);
                    for (int k = 0; k < w.InFeatures; k++)
                    {
                        uint e = BitConverter.SingleToUInt32Bits(expected[(long)n * w.InFeatures + k]);
                        if (e != BitConverter.SingleToUInt32Bits(row[k]) || e != BitConverter.SingleToUInt32Bits(scalar[k]))
                            Assert.Fail($"{bflName}[{n}, {k}]: expected {expected[(long)n * w.InFeatures + k]:R}, decoded {row[k]:R}, scalar {scalar[k]:R}");
                    }
                }
            }
        }
        Assert.Equal(quantizedCount, quantized);
    }

    [Theory]
    [InlineData("nvfp4.swz_256x128.weight")]
    [InlineData("nvfp4.plain_128x48.weight")]
    [InlineData("fp8.w_96x80.weight")]
    [InlineData("fp8.w_64x64_special.weight")]
    public void VectorDecodeEqualsTheScalarTwinOnRaggedSegments(string name)
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("quant_codec.safetensors"));
        var w = LinearWeightLoader.Load(c, name);
        int[] starts = [0, 1, 7, 15, 16, 17, 31, 33];
        int[] counts = [0, 1, 7, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65];
        var fast = new float[w.InFeatures + 1];
        var slow = new float[w.InFeatures + 1];
        fixed (float* f = fast, s = slow)
        {
            foreach (int row in new[] { 0, 33, w.OutFeatures - 1 })
                foreach (int k0 in starts)
                    foreach (int count in counts.Where(n => k0 + n <= w.InFeatures))
                    {
                        fast[count] = slow[count] = 12345f; // must stay untouched
                        WeightRowDecoder.Decode(w, row, k0, count, f);
                        DecodeScalar(w, row, k0, count, s);
                        for (int i = 0; i <= count; i++)
                            Assert.True(BitConverter.SingleToUInt32Bits(fast[i]) == BitConverter.SingleToUInt32Bits(slow[i]),
                                $"{name} row {row} k0 {k0} count {count} element {i}: {fast[i]:R} vs {slow[i]:R}");
                    }
        }
    }

    [Theory]
    [InlineData("nvfp4_dev")]
    [InlineData("fp8_klein")]
    public void GemmOnQuantizedWeightsEqualsGemmOnDequantisedWeights(string @case)
    {
        using var quant = SafeTensorsCheckpoint.Open(Fixtures.Golden(@case + ".bfl.safetensors"));
        using var dequant = SafeTensorsCheckpoint.Open(Fixtures.Golden(@case + ".dequant.diffusers.safetensors"));
        var rng = new Random(7);
        foreach (var (bflName, diffusersNames) in LinearPairs(2, 2).Where((_, i) => i % 3 == 0))
        {
            var w = LinearWeightLoader.Load(quant, bflName);
            var reference = diffusersNames.SelectMany(n => dequant.Get(n).ToFloat32Array()).ToArray();
            foreach (int m in new[] { 1, 5, 67 })
            {
                var x = Enumerable.Range(0, m * w.InFeatures).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
                var y = new float[m * w.OutFeatures];
                var yRef = new float[m * w.OutFeatures];
                fixed (float* px = x, py = y, pr = yRef, pw = reference)
                {
                    var f32 = new LinearWeight("reference", w.OutFeatures, w.InFeatures, WeightFormat.Float32, (nint)pw);
                    Gemm.Multiply(px, m, w.InFeatures, w, py, w.OutFeatures, false, Flux2.Cpu.Threading.ComputePool.Shared);
                    GemmReference.Multiply(px, m, w.InFeatures, f32, pr, w.OutFeatures, false);
                }
                for (int i = 0; i < y.Length; i++)
                    Assert.True(Math.Abs(y[i] - yRef[i]) <= 1e-5f * (1 + Math.Abs(yRef[i])), $"{bflName} m={m} [{i}]: {y[i]} vs {yRef[i]}");
            }
        }
    }

    [Fact]
    public void TheTensorScaleIsApplied()
    {
        // Pitfall 33: dropping weight_scale_2 / weight_scale changes every weight.
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("quant_codec.safetensors"));
        foreach (var name in new[] { "nvfp4.swz_128x384.weight", "fp8.w_96x80.weight" })
        {
            var w = LinearWeightLoader.Load(c, name);
            var unscaled = new LinearWeight(w.Name, w.OutFeatures, w.InFeatures, w.Format, w.Data, c, w.BlockScales, w.ScalesSwizzled, w.ScaleColumns);
            var a = new float[w.InFeatures];
            var b = new float[w.InFeatures];
            fixed (float* pa = a, pb = b)
            {
                WeightRowDecoder.Decode(w, 0, 0, w.InFeatures, pa);
                WeightRowDecoder.Decode(unscaled, 0, 0, w.InFeatures, pb);
            }
            for (int k = 0; k < a.Length; k++) Assert.Equal(b[k] * w.TensorScale, a[k], 1e-6f * Math.Abs(a[k]));
            Assert.True(Math.Abs(w.TensorScale - 1f) > 0.5f);
        }
    }

    private static void DecodeScalar(LinearWeight w, int row, int k0, int count, float* dst)
    {
        if (w.Format == WeightFormat.Nvfp4) Nvfp4RowDecoder.DecodeScalar(w, row, k0, count, dst);
        else if (w.Format == WeightFormat.Fp8E4M3) Fp8RowDecoder.DecodeScalar((byte*)w.Data + (long)row * w.InFeatures + k0, count, w.TensorScale, dst);
        else WeightRowDecoder.Decode(w, row, k0, count, dst);
    }
}
