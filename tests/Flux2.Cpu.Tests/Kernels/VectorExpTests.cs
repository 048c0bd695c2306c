using System.Runtime.Intrinsics;
using Flux2.Cpu.Kernels;

namespace Flux2.Cpu.Tests.Kernels;

/// <summary>The softmax's single-precision exp against double precision over the whole float range it can return, at both
/// vector widths (AVX-512's, with vscalefps; AVX2's, with 2ⁿ built in the exponent field), which must agree bit for bit.</summary>
public class VectorExpTests
{
    /// <summary>exp of each value, computed 16 or 8 at a time.</summary>
    private static unsafe float[] Exp(float[] values, int lanes)
    {
        Assert.SkipUnless(lanes == 16 ? Lanes512.IsSupported : Lanes256.IsSupported, $"this processor lacks the {lanes}-lane vectors");
        var padded = new float[(values.Length + lanes - 1) / lanes * lanes];
        values.CopyTo(padded, 0);
        var result = new float[padded.Length];
        fixed (float* x = padded, y = result)
            for (int i = 0; i < padded.Length; i += lanes)
                if (lanes == 16) VectorExp.Exp<Lanes512, Vector512<float>>(Vector512.Load(x + i)).Store(y + i);
                else VectorExp.Exp<Lanes256, Vector256<float>>(Vector256.Load(x + i)).Store(y + i);
        return result[..values.Length];
    }

    /// <summary>−104 .. 88.7 in steps of 0.0173: normal results (checked against double precision), the subnormal ones below
    /// about −87.3 and the infinite ones above 88.72 (checked for agreement between the widths and, above, for ∞).</summary>
    private static readonly float[] Grid = Enumerable.Range(0, (int)((88.7f + 104f) / 0.0173f)).Select(i => -104f + 0.0173f * i).ToArray();

    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    public void WithinTwoTenthsOfAMillionthOfDoublePrecision(int lanes)
    {
        var e = Exp(Grid, lanes);
        double worst = 0;
        for (int i = 0; i < Grid.Length; i++)
        {
            double expected = Math.Exp(Grid[i]);
            if (expected > float.MaxValue) Assert.Equal(float.PositiveInfinity, e[i]);
            else if (expected >= 1.2e-38) worst = Math.Max(worst, Math.Abs(e[i] - expected) / expected);
        }
        Assert.True(worst < 2e-7, $"largest relative error {worst}");
    }

    [Fact]
    public void BothWidthsAgreeBitForBit() => Assert.Equal(Exp(Grid, 16), Exp(Grid, 8));

    [Theory]
    [InlineData(16)]
    [InlineData(8)]
    public void EdgesAreExact(int lanes)
    {
        var e = Exp([0f, float.NegativeInfinity, -104f, -200f, 89f, float.PositiveInfinity, float.NaN, 1f, -87.5f, -100f, 88.7f], lanes);
        Assert.Equal(1f, e[0]);
        Assert.Equal(0f, e[1]);
        Assert.Equal(0f, e[2]);
        Assert.Equal(0f, e[3]);
        Assert.Equal(float.PositiveInfinity, e[4]);
        Assert.Equal(float.PositiveInfinity, e[5]);
        Assert.True(float.IsNaN(e[6]));
        Assert.Equal(MathF.E, e[7], 6);
        // Results below the normal range (subnormals, fewer significant bits) underflow gradually rather than flushing to zero.
        Assert.InRange(e[8] / Math.Exp(-87.5), 0.999999, 1.000001);
        Assert.InRange(e[9] / Math.Exp(-100), 0.9, 1.1); // 26 steps of the smallest subnormal
        Assert.InRange(e[10] / Math.Exp(88.7f), 0.9999998, 1.0000002);
    }
}
