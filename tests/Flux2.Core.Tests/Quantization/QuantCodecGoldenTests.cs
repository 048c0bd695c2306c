using Flux2.Core.Numerics;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.Quantization;

/// <summary>The E2M1 / E4M3 codecs, the scale layouts and the quantizers against quant_codec.safetensors, bit for bit.</summary>
public sealed class QuantCodecGoldenTests : IDisposable
{
    private readonly SafeTensorsCheckpoint _codec = SafeTensorsCheckpoint.Open(Fixtures.Golden("quant_codec.safetensors"));

    public static TheoryData<string> Nvfp4Linears => new() { "swz_256x128", "swz_128x384", "swz_384x64", "plain_192x64", "plain_128x48" };
    public static TheoryData<string> Fp8Linears => new() { "w_96x80", "w_64x64_special" };

    public void Dispose() => _codec.Dispose();

    [Fact]
    public void E2M1DecodesEveryCode()
    {
        var codes = _codec.Get("e2m1.codes").AsSpan<byte>();
        var values = _codec.Get("e2m1.values").AsSpan<float>();
        for (int i = 0; i < 16; i++) AssertBits(values[i], E2M1.Decode(codes[i]));
        Assert.True(float.IsNegative(E2M1.Decode(8)) && E2M1.Decode(8) == 0);
    }

    [Fact]
    public void E4M3DecodesAll256Bytes()
    {
        var bytes = _codec.Get("e4m3.bytes").AsSpan<byte>();
        var values = _codec.Get("e4m3.values").AsSpan<float>();
        for (int i = 0; i < 256; i++)
        {
            if (float.IsNaN(values[i])) Assert.True(float.IsNaN(E4M3.Decode(bytes[i])), $"byte 0x{bytes[i]:X2}");
            else AssertBits(values[i], E4M3.Decode(bytes[i]));
        }
        Assert.Equal(448f, E4M3.Decode(0x7E));
        Assert.Equal(2, Enumerable.Range(0, 256).Count(b => float.IsNaN(E4M3.Decode((byte)b))));
    }

    [Fact]
    public void E4M3EncoderMatchesEveryProbe()
    {
        var inputs = _codec.Get("e4m3.encode.inputs").AsSpan<float>();
        var expected = _codec.Get("e4m3.encode.expected").AsSpan<byte>();
        Assert.Equal(1041, inputs.Length);
        for (int i = 0; i < inputs.Length; i++)
            Assert.True(expected[i] == E4M3.Encode(inputs[i]), $"E4M3.Encode({inputs[i]:R}) = 0x{E4M3.Encode(inputs[i]):X2}, expected 0x{expected[i]:X2}");
    }

    [Fact]
    public void E2M1EncoderMatchesEveryProbe()
    {
        var inputs = _codec.Get("e2m1.encode.inputs").AsSpan<float>();
        var expected = _codec.Get("e2m1.encode.expected").AsSpan<byte>();
        for (int i = 0; i < inputs.Length; i++)
            Assert.True(expected[i] == E2M1.Encode(inputs[i]), $"E2M1.Encode({inputs[i]:R}) = {E2M1.Encode(inputs[i])}, expected {expected[i]}");
    }

    [Fact]
    public void EncodersInvertDecoders()
    {
        for (int c = 0; c < 16; c++) Assert.Equal(c == 8 ? 0 : c, E2M1.Encode(E2M1.Decode(c)));
        for (int b = 0; b < 256; b++)
            if (b is not (0x7F or 0xFF)) Assert.Equal(b, E4M3.Encode(E4M3.Decode((byte)b)));
        Assert.Equal(0x80, E4M3.Encode(-0f));
        Assert.Equal(0x7F, E4M3.Encode(BitConverter.UInt32BitsToSingle(0x7FC0_0000)));
        Assert.Equal(0xFF, E4M3.Encode(BitConverter.UInt32BitsToSingle(0xFFC0_0000)));
        Assert.Equal(0x7E, E4M3.Encode(float.PositiveInfinity));
        Assert.Equal(0xFE, E4M3.Encode(float.NegativeInfinity));
    }

    [Fact]
    public void SwizzledOffsetOfPitfall32()
    {
        // (n = 33, kb = 5) of a KB = 8 matrix: tile 1, then (33 % 32)·16 + (33 / 32)·4 + 5 % 4 = 533.
        Assert.Equal(533, Nvfp4ScaleLayout.SwizzledOffset(33, 5, 8));
    }

    [Theory]
    [InlineData(256, 8)]
    [InlineData(384, 4)]
    [InlineData(128, 24)]
    [InlineData(512, 12)]
    public void SwizzleRoundTripsAndFollowsTheFormula(int rows, int blocks)
    {
        var logical = Enumerable.Range(0, rows * blocks).Select(i => (byte)(i * 7 + i / 251)).ToArray();
        var stored = Nvfp4ScaleLayout.Swizzle(logical, rows, blocks);
        Assert.Equal(logical, Nvfp4ScaleLayout.Deswizzle(stored, rows, blocks));
        for (int n = 0; n < rows; n++)
            for (int kb = 0; kb < blocks; kb++)
            {
                int i0 = n / 128, i1 = kb / 4, i2 = n % 32, i3 = n % 128 / 32, i4 = kb % 4;
                int flat = (((i0 * (blocks / 4) + i1) * 32 + i2) * 4 + i3) * 4 + i4;
                Assert.Equal(logical[n * blocks + kb], stored[flat]);
            }
    }

    [Fact]
    public void SwizzleRejectsShapesWithoutTiles()
    {
        Assert.False(Nvfp4ScaleLayout.IsSwizzleable(192, 4));
        Assert.False(Nvfp4ScaleLayout.IsSwizzleable(128, 3));
        Assert.Throws<ArgumentException>(() => Nvfp4ScaleLayout.Swizzle(new byte[192 * 4], 192, 4));
    }

    [Theory]
    [MemberData(nameof(Nvfp4Linears))]
    public void StoredScalesAreTheLayoutOfTheLogicalScales(string linear)
    {
        var stored = _codec.Get($"nvfp4.{linear}.weight_scale");
        var logical = _codec.Get($"nvfp4.{linear}.weight_scale_logical").ToByteArray();
        int rows = (int)stored.Shape[0], blocks = (int)stored.Shape[1];
        bool swizzled = Nvfp4ScaleLayout.IsSwizzleable(rows, blocks);
        Assert.Equal(linear.StartsWith("swz", StringComparison.Ordinal), swizzled);
        Assert.Equal(stored.ToByteArray(), swizzled ? Nvfp4ScaleLayout.Swizzle(logical, rows, blocks) : logical);
        if (swizzled) Assert.Equal(logical, Nvfp4ScaleLayout.Deswizzle(stored.AsSpan<byte>(), rows, blocks));
    }

    [Theory]
    [MemberData(nameof(Nvfp4Linears))]
    public void Nvfp4CodecReproducesTheDequantisedWeights(string linear)
    {
        var weight = _codec.Get($"nvfp4.{linear}.weight").AsSpan<byte>();
        var logical = _codec.Get($"nvfp4.{linear}.weight_scale_logical").AsSpan<byte>();
        float scale2 = _codec.Get($"nvfp4.{linear}.weight_scale_2").AsSpan<float>()[0];
        var dequant = _codec.Get($"nvfp4.{linear}.dequant");
        int rows = (int)dequant.Shape[0], cols = (int)dequant.Shape[1], blocks = cols / 16;
        var expected = dequant.AsSpan<float>();
        for (int n = 0; n < rows; n++)
            for (int k = 0; k < cols; k++)
            {
                byte b = weight[(n * cols + k) / 2];
                int code = k % 2 == 0 ? b >> 4 : b & 0xF;
                float value = E2M1.Decode(code) * E4M3.Decode(logical[n * blocks + k / 16]) * scale2;
                AssertBits(expected[n * cols + k], value);
            }
    }

    [Fact]
    public void HighNibbleHoldsTheEvenElement()
    {
        // Pitfall 31: byte 0x2F is (1.0, -6.0) times the scales.
        Assert.Equal(1f, E2M1.Decode(0x2F >> 4));
        Assert.Equal(-6f, E2M1.Decode(0x2F & 0xF));
    }

    [Theory]
    [MemberData(nameof(Nvfp4Linears))]
    public void Nvfp4QuantizerIsBitExact(string linear)
    {
        var original = _codec.Get($"nvfp4.{linear}.original");
        int rows = (int)original.Shape[0], cols = (int)original.Shape[1];
        var q = Nvfp4Quantizer.Quantize(original.ToFloat32Array(), rows, cols, linear);
        Assert.Equal(_codec.Get($"nvfp4.{linear}.weight").ToByteArray(), q.Weight);
        Assert.Equal(_codec.Get($"nvfp4.{linear}.weight_scale").ToByteArray(), q.Scales);
        AssertBits(_codec.Get($"nvfp4.{linear}.weight_scale_2").AsSpan<float>()[0], q.WeightScale2);
        Assert.Equal(linear.StartsWith("swz", StringComparison.Ordinal), q.Swizzled);
    }

    [Theory]
    [MemberData(nameof(Fp8Linears))]
    public void Fp8CodecAndQuantizerAreBitExact(string linear)
    {
        var original = _codec.Get($"fp8.{linear}.original");
        var q = Fp8Quantizer.Quantize(original.ToFloat32Array(), linear);
        Assert.Equal(_codec.Get($"fp8.{linear}.weight").ToByteArray(), q.Weight);
        float scale = _codec.Get($"fp8.{linear}.weight_scale").AsSpan<float>()[0];
        AssertBits(scale, q.WeightScale);
        var expected = _codec.Get($"fp8.{linear}.dequant").AsSpan<float>();
        for (int i = 0; i < expected.Length; i++) AssertBits(expected[i], E4M3.Decode(q.Weight[i]) * scale);
    }

    [Fact]
    public void QuantizersRejectBadInput()
    {
        var nan = new float[32];
        nan[5] = float.NaN;
        Assert.Contains("'w.nan'", Assert.Throws<QuantizationException>(() => Nvfp4Quantizer.Quantize(nan, 1, 32, "w.nan")).Message);
        Assert.Contains("'w.inf'", Assert.Throws<QuantizationException>(() => Fp8Quantizer.Quantize([1f, float.PositiveInfinity], "w.inf")).Message);
        Assert.Contains("multiple of 16", Assert.Throws<QuantizationException>(() => Nvfp4Quantizer.Quantize(new float[24], 1, 24, "w.k24")).Message);
    }

    [Fact]
    public void AllZeroTensorsQuantizeToZeros()
    {
        var nv = Nvfp4Quantizer.Quantize(new float[128 * 64], 128, 64, "zero");
        Assert.All(nv.Weight, b => Assert.Equal(0, b));
        var fp8 = Fp8Quantizer.Quantize(new float[40], "zero");
        Assert.All(fp8.Weight, b => Assert.Equal(0, b));
        Assert.Equal(0f, E4M3.Decode(fp8.Weight[0]) * fp8.WeightScale);
    }

    private static void AssertBits(float expected, float actual) =>
        Assert.True(BitConverter.SingleToUInt32Bits(expected) == BitConverter.SingleToUInt32Bits(actual), $"expected {expected:R}, got {actual:R}");
}
