using Flux2.Core;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Threading;
using GemmOp = Flux2.Cpu.Gemm.Gemm;

namespace Flux2.Cpu.Tests.Gemm;

public unsafe class GemmTests
{
    /// <summary>fp32 sums of K products of values in [-1, 1) in a different order than the oracle: the rounding
    /// differences grow with K; 2e-6·K is far above them yet far below the size of one wrong or missing product.</summary>
    private static float Tolerance(int k) => 2e-6f * k + 1e-6f;

    public static TheoryData<string, WeightFormat> KernelsAndFormats()
    {
        var data = new TheoryData<string, WeightFormat>();
        foreach (var kernel in GemmKernel.All)
        foreach (var format in new[] { WeightFormat.Float32, WeightFormat.BFloat16, WeightFormat.Float16 })
            data.Add(kernel.Name, format);
        return data;
    }

    /// <summary>Ragged (M, N, K): partial register tiles in both directions, K below and across the kc slice
    /// (384), and shapes that split into several row tasks, column tasks (N over 1024) and mc blocks (M over 384).</summary>
    private static readonly (int M, int N, int K)[] PackedShapes =
    [
        (9, 1, 1), (15, 7, 7), (16, 16, 16), (17, 17, 17), (31, 33, 15), (33, 31, 63), (63, 64, 64), (64, 65, 65),
        (65, 63, 130), (130, 130, 31), (12, 32, 257), (24, 96, 513), (400, 40, 20), (13, 800, 33), (25, 1100, 390),
    ];

    [Theory]
    [MemberData(nameof(KernelsAndFormats))]
    public void PackedKernelMatchesReference(string kernelName, WeightFormat format)
    {
        var kernel = GemmKernel.All.Single(k => k.Name == kernelName);
        Assert.SkipUnless(kernel.IsSupported, $"this processor cannot run the {kernelName} kernel");
        foreach (var (m, n, k) in PackedShapes)
        {
            CheckAgainstReference(kernel, m, n, k, format, accumulate: false, ldxPad: 0, ldyPad: 0);
            CheckAgainstReference(kernel, m, n, k, format, accumulate: true, ldxPad: 3, ldyPad: 5);
        }
    }

    [Theory]
    [InlineData(WeightFormat.Float32)]
    [InlineData(WeightFormat.BFloat16)]
    [InlineData(WeightFormat.Float16)]
    public void SmallRowCountsMatchReference(WeightFormat format)
    {
        foreach (int m in new[] { 1, 2, 3, 4, 5, 7, 8 })
        foreach (var (n, k) in new[] { (1, 1), (7, 17), (65, 64), (130, 1100), (5, 4100) })
        {
            CheckAgainstReference(GemmKernel.Best, m, n, k, format, accumulate: false, ldxPad: 0, ldyPad: 0);
            CheckAgainstReference(GemmKernel.Best, m, n, k, format, accumulate: true, ldxPad: 1, ldyPad: 2);
        }
    }

    [Fact]
    public void DefaultEntryPointUsesBestKernel()
    {
        Assert.True(GemmKernel.Best.IsSupported);
        Assert.True(GemmKernel.Scalar.IsSupported);
        var ops = new GemmOperands(20, 40, 50, WeightFormat.BFloat16);
        var expected = (float[])ops.Y.Clone();
        fixed (float* x = ops.X, y = ops.Y, e = expected)
        {
            GemmOp.Multiply(x, ops.M, ops.Ldx, ops.W, y, ops.Ldy, false, ComputePool.Shared);
            GemmReference.Multiply(x, ops.M, ops.Ldx, ops.W, e, ops.Ldy, false);
        }
        AssertClose(expected, ops.Y, Tolerance(50), "default entry point");
    }

    [Fact]
    public void ZeroRowsLeavesOutputUntouched()
    {
        var ops = new GemmOperands(3, 8, 8, WeightFormat.Float32);
        var before = (float[])ops.Y.Clone();
        fixed (float* x = ops.X, y = ops.Y) GemmOp.Multiply(x, 0, ops.Ldx, ops.W, y, ops.Ldy, false, ComputePool.Shared);
        Assert.Equal(before, ops.Y);
    }

    [Fact]
    public void RejectsStridesShorterThanTheRows()
    {
        var ops = new GemmOperands(3, 8, 8, WeightFormat.Float32);
        fixed (float* x = ops.X, y = ops.Y)
        {
            float* xp = x, yp = y;
            Assert.Throws<ArgumentException>(() => GemmOp.Multiply(xp, 3, 7, ops.W, yp, 8, false, ComputePool.Shared));
            Assert.Throws<ArgumentException>(() => GemmOp.Multiply(xp, 3, 8, ops.W, yp, 7, false, ComputePool.Shared));
        }
    }

    private static void CheckAgainstReference(GemmKernel kernel, int m, int n, int k, WeightFormat format, bool accumulate, int ldxPad, int ldyPad)
    {
        var ops = new GemmOperands(m, n, k, format, ldxPad, ldyPad, seed: m * 7919 + n * 31 + k);
        var expected = (float[])ops.Y.Clone();
        fixed (float* x = ops.X, y = ops.Y, e = expected)
        {
            GemmOp.Multiply(kernel, x, m, ops.Ldx, ops.W, y, ops.Ldy, accumulate, ComputePool.Shared);
            GemmReference.Multiply(x, m, ops.Ldx, ops.W, e, ops.Ldy, accumulate);
        }
        AssertClose(expected, ops.Y, Tolerance(k), $"{kernel.Name} {format} M={m} N={n} K={k} accumulate={accumulate} ldx={ops.Ldx} ldy={ops.Ldy}");
    }

    private static void AssertClose(float[] expected, float[] actual, float tolerance, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            // Padding columns hold the sentinel in both arrays, so a write past N fails here too.
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]} (tolerance {tolerance})");
        }
    }
}
