namespace Flux2.Pipelines.Noise;

/// <summary>
/// Transcendental functions written with + − × ÷ only, which IEEE-754 rounds identically everywhere,
/// so results do not depend on the C library or the JIT (Math.Log may differ in the last bit between them).
/// Math.Sqrt needs no twin: IEEE-754 requires it to be correctly rounded.
/// </summary>
public static class DeterministicMath
{
    // ln 2 split so that e·Ln2Hi is exact for |e| < 2¹¹ (the fdlibm constants).
    private const double Ln2Hi = 6.93147180369123816490e-01;
    private const double Ln2Lo = 1.90821492927058770002e-10;
    private const double Sqrt2 = 1.4142135623730951;

    /// <summary>Natural logarithm of a positive finite double, within ~2 ulp of the exact value.</summary>
    public static double Log(double x)
    {
        if (!(x > 0) || !double.IsFinite(x)) throw new ArgumentOutOfRangeException(nameof(x), x, "Log needs a positive finite value");
        // x = m·2^e with m in [√½, √2).
        long bits = BitConverter.DoubleToInt64Bits(x);
        int e;
        if ((bits >> 52) == 0)
        {
            // Subnormal: scale into the normal range first.
            bits = BitConverter.DoubleToInt64Bits(x * 18014398509481984.0); // 2^54
            e = (int)(bits >> 52) - 1023 - 54;
        }
        else
        {
            e = (int)(bits >> 52) - 1023;
        }
        double m = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (m > Sqrt2)
        {
            m *= 0.5;
            e++;
        }
        // ln m = 2·atanh(s) = 2·(s + s³/3 + s⁵/5 + …), s = (m − 1)/(m + 1), |s| ≤ 0.1716, so s² ≤ 0.0295
        // and 12 odd terms leave a truncation error below 1e-19.
        double s = (m - 1.0) / (m + 1.0);
        double s2 = s * s;
        double series = 0;
        for (int k = 23; k >= 3; k -= 2) series = (series + 1.0 / k) * s2;
        double lnM = 2.0 * s + 2.0 * s * series;
        return e * Ln2Hi + (lnM + e * Ln2Lo);
    }
}
