using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// exp on 16 floats in single precision, for the attention softmax: .NET's <see cref="Vector512.Exp(Vector512{float})"/>
/// is computed in double precision and is not inlined, which made it a sixth of the attention's time. Here
/// exp(x) = 2ⁿ · exp(r) with n = round(x / ln 2) and |r| ≤ ln 2 / 2, exp(r) by the Cephes expf polynomial (relative error
/// about 1e-7, measured against double precision in the tests), 2ⁿ applied by <c>vscalefps</c>. exp(−∞) = 0 exactly,
/// exp(x) = ∞ above ln(float.MaxValue), NaN stays NaN.
/// </summary>
internal static class VectorExp
{
    public static bool IsSupported => Avx512F.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // Below −104 the result rounds to 0 (2⁻¹⁵¹ is under half the smallest subnormal), above 89 to ∞; clamping keeps
        // n finite. The constant is the first operand so that maxps/minps return a NaN x.
        x = Avx512F.Max(Vector512.Create(-104f), x);
        x = Avx512F.Min(Vector512.Create(89f), x);
        var n = Avx512F.RoundScale(x * Vector512.Create(1.44269504088896341f), 0x08); // nearest even, no exception
        // r = x − n·ln 2 with ln 2 split in two so that n·ln2High is exact.
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(1.9875691500e-4f), r, Vector512.Create(1.3981999507e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(8.3334519073e-3f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(4.1665795894e-2f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1.6666665459e-1f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(5.0000001201e-1f));
        var y = Vector512.FusedMultiplyAdd(p, r * r, r + Vector512<float>.One);
        return Avx512F.Scale(y, n);
    }
}
