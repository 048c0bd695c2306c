using Flux2.Core.Decoding;
using Flux2.Core.Numerics;

namespace Flux2.Core.Tests.Decoding;

public unsafe class FloatWideningTests
{
    /// <summary>Every 16-bit pattern (normals, subnormals, zeros, infinities, NaNs), at offsets that exercise
    /// both the vector body and the scalar tail.</summary>
    [Fact]
    public void BFloat16WideningIsExactForEveryPattern()
    {
        var src = AllPatterns();
        var dst = new float[src.Length];
        fixed (ushort* s = src)
        fixed (float* d = dst)
        {
            FloatWidening.BFloat16ToSingle(s + 1, d + 1, src.Length - 1);
            d[0] = BFloat16Bits.ToFloat(s[0]);
        }
        for (int i = 0; i < src.Length; i++)
            Assert.Equal(BitConverter.SingleToUInt32Bits(BFloat16Bits.ToFloat(src[i])), BitConverter.SingleToUInt32Bits(dst[i]));
    }

    [Fact]
    public void HalfWideningIsExactForEveryPattern()
    {
        var src = AllPatterns();
        var dst = new float[src.Length];
        fixed (ushort* s = src)
        fixed (float* d = dst)
        {
            FloatWidening.HalfToSingle((Half*)s + 1, d + 1, src.Length - 1);
            d[0] = (float)BitConverter.UInt16BitsToHalf(s[0]);
        }
        for (int i = 0; i < src.Length; i++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf(src[i]);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(dst[i]), $"pattern {src[i]:X4} should widen to NaN");
            else Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(dst[i]));
        }
    }

    private static ushort[] AllPatterns()
    {
        var patterns = new ushort[65536 + 3];
        for (int i = 0; i < patterns.Length; i++) patterns[i] = (ushort)i;
        return patterns;
    }
}
