using System.Runtime.CompilerServices;

namespace Flux2.Core.Numerics;

/// <summary>
/// The 4-bit E2M1 (FP4) element of NVFP4 (spec §5.2): sign in bit 3, exponent bits 2:1, mantissa bit 0.
/// NVFP4 bytes hold two codes, the even element in the high nibble.
/// </summary>
public static class E2M1
{
    /// <summary>Largest magnitude.</summary>
    public const float MaxValue = 6f;

    /// <summary>Value of every code 0..15; code 8 is -0.0.</summary>
    public static ReadOnlySpan<float> Values => [0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f, -0f, -0.5f, -1f, -1.5f, -2f, -3f, -4f, -6f];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Decode(int code) => Values[code & 0xF];

    /// <summary>
    /// Round to the nearest code, ties to the even code, saturating at ±6. The sign bit is set exactly when
    /// <paramref name="value"/> &lt; 0, so -0.0 gives code 0 and a tiny negative gives code 8 (ModelOpt's behaviour).
    /// </summary>
    public static byte Encode(float value)
    {
        float a = MathF.Abs(value);
        // Midpoints between neighbouring magnitudes: a tie goes to the even code (mantissa bit 0).
        int magnitude = a <= 0.25f ? 0
            : a < 0.75f ? 1
            : a <= 1.25f ? 2
            : a < 1.75f ? 3
            : a <= 2.5f ? 4
            : a < 3.5f ? 5
            : a <= 5f ? 6
            : 7;
        return (byte)(value < 0 ? magnitude | 8 : magnitude);
    }
}
