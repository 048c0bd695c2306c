using System.Runtime.CompilerServices;

namespace Flux2.Core.Numerics;

/// <summary>
/// float8_e4m3fn (spec §5.3): sign bit 7, exponent bits 6:3 (bias 7), mantissa bits 2:0; exponent 0 is
/// subnormal, 0x7F / 0xFF are NaN, there are no infinities and the largest finite value is 448 (0x7E).
/// </summary>
public static class E4M3
{
    public const float MaxValue = 448f;
    private const byte MaxFiniteBits = 0x7E;
    private const byte NaNBits = 0x7F;

    private static readonly float[] Table = BuildTable();

    /// <summary>The value of every byte 0..255.</summary>
    public static ReadOnlySpan<float> Values => Table;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Decode(byte bits) => Table[bits];

    /// <summary>Round to nearest even, saturating to ±448 (also ±∞); NaN gives 0x7F (0xFF with the sign set); -0.0 gives 0x80.</summary>
    public static byte Encode(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        byte sign = (byte)((bits >> 24) & 0x80);
        uint abs = bits & 0x7FFF_FFFF;
        if (abs > 0x7F80_0000) return (byte)(sign | NaNBits);
        float a = BitConverter.UInt32BitsToSingle(abs);
        byte magnitude;
        if (a < 0.015625f)
        {
            // Subnormal range (below 2^-6): the code is the number of 2^-9 steps; 8 steps carry into 0x08 = 2^-6.
            magnitude = (byte)Math.Round(a * 512.0, MidpointRounding.ToEven);
        }
        else
        {
            // Keep exponent and the top 3 mantissa bits of the fp32 pattern, rounding the 20 dropped bits to
            // nearest even (a carry moves into the exponent), then rebias the exponent from 127 to 7.
            uint rounded = (abs + 0x7_FFFFu + ((abs >> 20) & 1)) >> 20;
            uint code = rounded - ((127u - 7u) << 3);
            magnitude = code > MaxFiniteBits ? MaxFiniteBits : (byte)code;
        }
        return (byte)(sign | magnitude);
    }

    private static float[] BuildTable()
    {
        var t = new float[256];
        for (int b = 0; b < 256; b++)
        {
            int e = (b >> 3) & 0xF, m = b & 7;
            float magnitude = (e, m) switch
            {
                (15, 7) => float.NaN,
                (0, _) => m / 8f * MathF.ScaleB(1f, -6),
                _ => (1f + m / 8f) * MathF.ScaleB(1f, e - 7),
            };
            t[b] = (b & 0x80) != 0 ? -magnitude : magnitude;
        }
        return t;
    }
}
