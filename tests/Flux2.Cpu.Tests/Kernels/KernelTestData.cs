namespace Flux2.Cpu.Tests.Kernels;

/// <summary>Random inputs and tolerance checks shared by the kernel-vs-oracle tests.</summary>
internal static class KernelTestData
{
    /// <summary>The ragged sizes every SIMD kernel is checked on (below, at and above vector and tile widths).</summary>
    public static readonly int[] RaggedSizes = [1, 7, 15, 16, 17, 63, 64, 65];

    public static IEnumerable<object[]> Ragged => RaggedSizes.Select(n => new object[] { n });

    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[count];
        for (int i = 0; i < count; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float atol, float rtol = 0)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float tol = atol + rtol * Math.Abs(expected[i]);
            if (!(Math.Abs(expected[i] - actual[i]) <= tol))
                Assert.Fail($"element {i}: expected {expected[i]}, got {actual[i]} (tolerance {tol})");
        }
    }
}
