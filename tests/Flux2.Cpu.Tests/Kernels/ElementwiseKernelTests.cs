using Flux2.Cpu.Kernels;
using Flux2.Cpu.Threading;
using static Flux2.Cpu.Tests.Kernels.KernelTestData;

namespace Flux2.Cpu.Tests.Kernels;

public unsafe class ElementwiseKernelTests
{
    private static readonly ComputePool Pool = ComputePool.Shared;

    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void ModulatedLayerNormMatchesOracle(int width)
    {
        foreach (int rows in new[] { 1, 3, 40 })
        {
            var x = Random(rows * width, 1, 3f);
            for (int i = 0; i < x.Length; i++) x[i] += 2f; // a non-zero mean
            var shift = Random(width, 2);
            var scale = Random(width, 3);
            var got = new float[x.Length];
            var want = new float[x.Length];
            fixed (float* px = x, pg = got, pw = want, ps = shift, pc = scale)
            {
                ModulatedLayerNorm.Run(Pool, px, pg, rows, width, ps, pc, 1e-6f);
                ModulatedLayerNormReference.Run(px, pw, rows, width, ps, pc, 1e-6f);
            }
            AssertClose(want, got, 2e-5f, 1e-5f);
        }
    }

    [Fact]
    public void ModulatedLayerNormUsesShiftAndScaleAsNamed()
    {
        // LN([1, 3]) = [-1, 1]; ·(1 + scale) + shift with scale 1, shift 10 gives [8, 12].
        float[] x = [1, 3], shift = [10, 10], scale = [1, 1], y = new float[2];
        fixed (float* px = x, py = y, ps = shift, pc = scale) ModulatedLayerNorm.Run(Pool, px, py, 1, 2, ps, pc, 0f);
        AssertClose([8f, 12f], y, 1e-5f);
    }

    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void GatedResidualMatchesOracle(int width)
    {
        int rows = 5;
        var x = Random(rows * width, 4);
        var y = Random(rows * width, 5);
        var gate = Random(width, 6);
        var want = (float[])x.Clone();
        fixed (float* px = x, pw = want, py = y, pg = gate)
        {
            GatedResidual.Run(Pool, px, py, rows, width, pg);
            GatedResidualReference.Run(pw, py, rows, width, pg);
        }
        AssertClose(want, x, 1e-6f);
    }

    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void ColumnScaleMatchesOracleInPlaceAndAccumulating(int width)
    {
        int rows = 6, ld = width + 7; // the columns outside [3, 3 + width) must be left alone
        var scales = Random(width, 9);
        foreach (bool accumulate in new[] { false, true })
        {
            var source = Random(rows * ld, 10);
            var got = Random(rows * ld, 11);
            var want = (float[])got.Clone();
            fixed (float* ps = source, pg = got, pw = want, pc = scales)
            {
                ColumnScale.Run(Pool, ps + 1, ld, pc, pg + 3, ld, rows, width, accumulate);
                ColumnScaleReference.Run(ps + 1, ld, pc, pw + 3, ld, rows, width, accumulate);
            }
            Assert.Equal(want, got);
            var inPlace = (float[])source.Clone();
            var inPlaceWant = (float[])source.Clone();
            fixed (float* pi = inPlace, pw = inPlaceWant, pc = scales)
            {
                ColumnScale.Run(Pool, pi + 3, ld, pc, pi + 3, ld, rows, width, accumulate);
                ColumnScaleReference.Run(pw + 3, ld, pc, pw + 3, ld, rows, width, accumulate);
            }
            Assert.Equal(inPlaceWant, inPlace);
            Assert.Equal(source[0], inPlace[0]);
            Assert.Equal(source[ld - 1], inPlace[ld - 1]);
        }
    }

    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void RmsNormMatchesOraclePerGroupAndOverTheRow(int group)
    {
        int rows = 9, groups = 3, ld = group * groups + 5; // padding columns must be left alone
        var x = Random(rows * ld, 7, 4f);
        var w = Random(group, 8);
        foreach (int width in new[] { group, group * groups })
        {
            var got = (float[])x.Clone();
            var want = (float[])x.Clone();
            fixed (float* pg = got, pw = want, pwt = w)
            {
                RmsNorm.Run(Pool, pg + 2, pg + 2, rows, ld, width, pwt, group, 1e-6f);
                RmsNormReference.Run(pw + 2, pw + 2, rows, ld, width, pwt, group, 1e-6f);
            }
            AssertClose(want, got, 1e-5f, 1e-5f);
            Assert.Equal(x[0], got[0]);
            Assert.Equal(x[ld - 1], got[ld - 1]);
        }
    }

    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void SiluMatchesOracle(int width)
    {
        var x = Random(3 * width, 9, 12f);
        var got = new float[x.Length];
        var want = new float[x.Length];
        fixed (float* px = x, pg = got, pw = want)
        {
            Silu.Run(Pool, px, pg, 3, width);
            SiluReference.Run(px, pw, 3, width);
        }
        AssertClose(want, got, 1e-6f, 1e-6f);
    }

    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void SwiGluMatchesOracleWithTheGateFirst(int width)
    {
        int rows = 4, ldz = 2 * width + 3, ldy = width + 2;
        var z = Random(rows * ldz, 10, 5f);
        var got = new float[rows * ldy];
        var want = new float[rows * ldy];
        fixed (float* pz = z, pg = got, pw = want)
        {
            SwiGlu.Run(Pool, pz + 1, ldz, pg + 1, ldy, rows, width);
            SwiGluReference.Run(pz + 1, ldz, pw + 1, ldy, rows, width);
        }
        AssertClose(want, got, 1e-5f, 1e-5f);
        // The gate is the first half: z = [gate = 2, up = 3] gives SiLU(2)·3, not SiLU(3)·2.
        float[] gz = [2, 3];
        float[] gy = new float[1];
        fixed (float* pz = gz, py = gy) SwiGlu.Run(Pool, pz, 2, py, 1, 1, 1);
        Assert.Equal(2 / (1 + Math.Exp(-2)) * 3, gy[0], 5);
    }
}
