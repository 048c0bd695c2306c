using System.Runtime.CompilerServices;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// exp on a vector of floats in single precision, for the attention softmax: .NET's <c>Vector512.Exp</c> is computed in
/// double precision and is not inlined, which made it a sixth of the attention's time. Here
/// exp(x) = 2ⁿ · exp(r) with n = round(x / ln 2) and |r| ≤ ln 2 / 2, exp(r) by the Cephes expf polynomial (relative error
/// about 1e-7, measured against double precision in the tests), 2ⁿ applied with one rounding
/// (<see cref="IFloatLanes{TV}.ScaleByPowerOfTwo"/>). exp(−∞) = 0 exactly, exp(x) = ∞ above ln(float.MaxValue), NaN stays NaN.
/// </summary>
internal static class VectorExp
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TLanes, TV>(TV x) where TLanes : IFloatLanes<TV> where TV : struct
    {
        // Below −104 the result rounds to 0 (2⁻¹⁵¹ is under half the smallest subnormal), above 89 to ∞; clamping keeps n finite.
        x = TLanes.Clamp(x, -104f, 89f);
        var n = TLanes.RoundToEven(TLanes.Multiply(x, TLanes.Splat(1.44269504088896341f)));
        // r = x − n·ln 2 with ln 2 split in two so that n·ln2High is exact.
        var r = TLanes.FusedMultiplyAdd(n, TLanes.Splat(-0.693359375f), x);
        r = TLanes.FusedMultiplyAdd(n, TLanes.Splat(2.12194440e-4f), r);
        var p = TLanes.FusedMultiplyAdd(TLanes.Splat(1.9875691500e-4f), r, TLanes.Splat(1.3981999507e-3f));
        p = TLanes.FusedMultiplyAdd(p, r, TLanes.Splat(8.3334519073e-3f));
        p = TLanes.FusedMultiplyAdd(p, r, TLanes.Splat(4.1665795894e-2f));
        p = TLanes.FusedMultiplyAdd(p, r, TLanes.Splat(1.6666665459e-1f));
        p = TLanes.FusedMultiplyAdd(p, r, TLanes.Splat(5.0000001201e-1f));
        var y = TLanes.FusedMultiplyAdd(p, TLanes.Multiply(r, r), TLanes.Add(r, TLanes.Splat(1f)));
        return TLanes.ScaleByPowerOfTwo(y, n);
    }
}
