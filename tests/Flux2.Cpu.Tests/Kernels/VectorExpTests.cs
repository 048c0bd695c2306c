using System.Runtime.Intrinsics;
using Flux2.Cpu.Kernels;

namespace Flux2.Cpu.Tests.Kernels;

/// <summary>The softmax's single-precision exp against double precision over the whole float range it can return.</summary>
public class VectorExpTests
{
    [Fact]
    public void WithinTwoTenthsOfAMillionthOfDoublePrecision()
    {
        if (!VectorExp.IsSupported) return;
        var values = new float[16];
        double worst = 0;
        for (float x0 = -87.3f; x0 < 88.7f; x0 += 0.0173f * 16)
        {
            for (int i = 0; i < 16; i++) values[i] = x0 + 0.0173f * i;
            var e = VectorExp.Exp(Vector512.Create(values));
            for (int i = 0; i < 16; i++)
            {
                double expected = Math.Exp(values[i]);
                if (expected > float.MaxValue) Assert.Equal(float.PositiveInfinity, e[i]);
                else worst = Math.Max(worst, Math.Abs(e[i] - expected) / expected);
            }
        }
        Assert.True(worst < 2e-7, $"largest relative error {worst}");
    }

    [Fact]
    public void EdgesAreExact()
    {
        if (!VectorExp.IsSupported) return;
        var e = VectorExp.Exp(Vector512.Create(0f, float.NegativeInfinity, -104f, -200f, 89f, float.PositiveInfinity, float.NaN, 1f,
            -87.5f, -100f, 88.7f, 0f, 0f, 0f, 0f, 0f));
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
