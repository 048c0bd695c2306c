using Flux2.Core.SafeTensors;
using Flux2.Cpu.Kernels;
using Flux2.Cpu.Threading;
using Flux2.Tests;
using static Flux2.Cpu.Tests.Kernels.KernelTestData;

namespace Flux2.Cpu.Tests.Kernels;

public unsafe class InterleavedRopeTests
{
    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void MatchesOracle(int pairs)
    {
        int headDim = 2 * pairs, heads = 3, tableRows = 5, rows = 2 * tableRows, ld = heads * headDim + 4;
        var x = Random(rows * ld, 11, 2f);
        var cos = Random(tableRows * pairs, 12);
        var sin = Random(tableRows * pairs, 13);
        var got = (float[])x.Clone();
        var want = (float[])x.Clone();
        fixed (float* pg = got, pw = want, pc = cos, ps = sin)
        {
            InterleavedRope.Run(ComputePool.Shared, pg + 1, ld, rows, heads, headDim, pc, ps, tableRows);
            InterleavedRopeReference.Run(pw + 1, ld, rows, heads, headDim, pc, ps, tableRows);
        }
        AssertClose(want, got, 1e-6f);
    }

    [Fact]
    public void RotatesAdjacentPairsNotHalves()
    {
        // One head of 4 dims = 2 pairs: (x0, x1) rotates by 90°, (x2, x3) is left alone.
        float[] x = [1, 2, 3, 4], cos = [0, 1], sin = [1, 0];
        fixed (float* px = x, pc = cos, ps = sin) InterleavedRope.Run(ComputePool.Shared, px, 4, 1, 1, 4, pc, ps, 1);
        Assert.Equal([-2f, 1f, 3f, 4f], x);
    }

    [Theory]
    [InlineData("tiny_dev", new[] { 8, 8, 8, 8 })]
    [InlineData("head128", new[] { 32, 32, 32, 32 })]
    public void TableMatchesTheGoldenTrace(string name, int[] axes)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
        var txtIds = io.Get("inputs.txt_ids").ToInt64Array();
        var imgIds = io.Get("inputs.img_ids").ToInt64Array();
        int txtRows = (int)io.Get("inputs.txt_ids").Shape[1], imgRows = (int)io.Get("inputs.img_ids").Shape[1];
        // Text first, batch element 0 only.
        var ids = txtIds.Take(txtRows * 4).Concat(imgIds.Take(imgRows * 4)).ToArray();
        int rows = txtRows + imgRows, pairs = axes.Sum() / 2;
        var cos = new float[rows * pairs];
        var sin = new float[rows * pairs];
        fixed (long* pi = ids)
        fixed (float* pc = cos, ps = sin)
            RopeTable.Build(pi, rows, axes, 2000, pc, ps);
        var goldenCos = io.Get("trace.rope_cos").ToFloat32Array();
        var goldenSin = io.Get("trace.rope_sin").ToFloat32Array();
        for (int r = 0; r < rows; r++)
        {
            for (int p = 0; p < pairs; p++)
            {
                // The golden tables repeat each pair's value: (c0, c0, c1, c1, ...).
                Assert.Equal(goldenCos[r * 2 * pairs + 2 * p], cos[r * pairs + p], 6);
                Assert.Equal(goldenCos[r * 2 * pairs + 2 * p + 1], cos[r * pairs + p], 6);
                Assert.Equal(goldenSin[r * 2 * pairs + 2 * p], sin[r * pairs + p], 6);
            }
        }
    }
}
