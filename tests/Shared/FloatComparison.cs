using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>Element-wise comparisons of fp32 results with reference values (golden tensors, other runs).</summary>
public static class FloatComparison
{
    /// <summary>max |expected − actual|; NaN as soon as one difference is NaN, so a NaN never passes a bound.</summary>
    public static float MaxAbsDiff(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float max = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = Math.Abs(expected[i] - actual[i]);
            if (float.IsNaN(diff)) return float.NaN;
            max = Math.Max(max, diff);
        }
        return max;
    }

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ (the absolute norm when expected is all zeros).</summary>
    public static double RelativeL2(float[] expected, float[] actual)
    {
        double difference = 0, reference = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = (double)actual[i] - expected[i];
            difference += d * d;
            reference += (double)expected[i] * expected[i];
        }
        return reference == 0 ? Math.Sqrt(difference) : Math.Sqrt(difference / reference);
    }

    /// <summary>The largest |actual − expected| − (atol + rtol·|expected|), NaN counted as +∞, and where it is;
    /// ≤ 0 means every element is within tolerance.</summary>
    public static double WorstExcess(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, out int worstIndex)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = double.NegativeInfinity;
        worstIndex = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            double excess = Math.Abs((double)actual[i] - expected[i]) - (atol + rtol * Math.Abs(expected[i]));
            if (double.IsNaN(excess)) excess = double.PositiveInfinity;
            if (excess > worst) { worst = excess; worstIndex = i; }
        }
        return worst;
    }

    /// <summary>Asserts every element lies within atol + rtol·|expected|, naming <paramref name="what"/> and the worst element.</summary>
    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double atol, double rtol, string what)
    {
        double excess = WorstExcess(expected, actual, atol, rtol, out int i);
        if (excess > 0) Assert.Fail($"{what}[{i}] = {actual[i]}, expected {expected[i]} (atol {atol}, rtol {rtol})");
    }

    /// <summary>Asserts tensor <paramref name="name"/> of <paramref name="actual"/> has the shape of the one in
    /// <paramref name="expected"/> and its values within atol + rtol·|expected|.</summary>
    public static void AssertClose(SafeTensorsFile expected, SafeTensorsFile actual, string name, double atol, double rtol = 0)
    {
        var e = expected.Get(name);
        var a = actual.Get(name);
        Assert.Equal(e.Shape, a.Shape);
        AssertClose(e.ToFloat32Array(), a.ToFloat32Array(), atol, rtol, name);
    }
}
