using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Kernels;
using Flux2.Cpu.Threading;
using static Flux2.Cpu.Tests.Kernels.KernelTestData;

namespace Flux2.Cpu.Tests.Kernels;

/// <summary>The LoKr side path: the block mix against its oracle, and <see cref="CpuBackend.KroneckerLinear"/> against the
/// Kronecker product formed in double, at ragged sizes and output ranges that start and end inside blocks, without and with
/// output scales (a DoRA LoKr).</summary>
public unsafe class KroneckerLinearTests
{
    private static readonly ComputePool Pool = ComputePool.Shared;

    /// <summary>A [a, b] and B [c, d]: scalars, blocks below, at and above a vector's width.</summary>
    public static TheoryData<int, int, int, int> Shapes => new()
    {
        { 1, 1, 1, 1 }, { 3, 2, 7, 5 }, { 4, 4, 16, 17 }, { 2, 5, 65, 3 }, { 5, 3, 33, 64 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheBlockMixMatchesItsOracleBitForBit(int a, int b, int c, int _)
    {
        int rows = 37, ldy = a * c + 3;
        var t = Random(rows * b * c, 1);
        var first = Random(a * b, 2);
        var scales = Random(a * c, 8);
        foreach (bool scaled in new[] { false, true })
            foreach (var (start, count) in Ranges(a * c))
            {
                var got = Random(rows * ldy, 3);
                var want = (float[])got.Clone();
                fixed (float* pt = t, pa = first, pg = got, pw = want, ps = scales)
                {
                    KroneckerMix.Run(Pool, pt, rows, pa, b, c, start, count, pg + 1, ldy, scaled ? ps : null);
                    KroneckerMixReference.Run(pt, rows, pa, b, c, start, count, pw + 1, ldy, scaled ? ps : null);
                }
                Assert.Equal(want, got);
            }
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void TheProductMatchesTheKroneckerWeight(int a, int b, int c, int d)
    {
        using var backend = new CpuBackend(Pool);
        int rows = 19, inFeatures = b * d, outFeatures = a * c, yColumn = 2, ldy = outFeatures + 5;
        var x = Random(rows * inFeatures, 4);
        var first = Random(a * b, 5);
        var second = GC.AllocateArray<float>(c * d, pinned: true);
        Random(c * d, 6).CopyTo(second, 0);
        using var weight = new LinearWeight("second", c, d, WeightFormat.Float32, Marshal.UnsafeAddrOfPinnedArrayElement(second, 0), second);
        var scales = Random(outFeatures, 8);
        foreach (bool scaled in new[] { false, true })
        foreach (var (start, count) in Ranges(outFeatures))
        {
            using var xt = Tensor.FromArray(x, rows, inFeatures);
            using var at = Tensor.FromArray(first, a, b);
            using var scratch = Tensor.Zeros(rows, b * c);
            var before = Random(rows * ldy, 7);
            using var y = Tensor.FromArray(before, rows, ldy);
            using var scaleTensor = Tensor.FromArray(scales, outFeatures);
            backend.KroneckerLinear(xt, at, weight, scratch, y, yColumn, start, count, scaled ? scaleTensor : null);

            var expected = (float[])before.Clone();
            for (int r = 0; r < rows; r++)
                for (int o = 0; o < count; o++)
                {
                    int i = (start + o) / c, k = (start + o) % c;
                    double sum = 0;
                    for (int j = 0; j < b; j++)
                        for (int l = 0; l < d; l++) sum += (double)first[i * b + j] * second[k * d + l] * x[r * inFeatures + j * d + l];
                    expected[r * ldy + yColumn + o] += (float)(sum * (scaled ? scales[start + o] : 1));
                }
            AssertClose(expected, y.ToArray<float>(), 2e-5f, 1e-5f);
        }
    }

    [Fact]
    public void OperandsThatDoNotFitAreRefusedNamingWhat()
    {
        using var backend = new CpuBackend(Pool);
        var second = GC.AllocateArray<float>(3 * 4, pinned: true);
        using var weight = new LinearWeight("lokr", 3, 4, WeightFormat.Float32, Marshal.UnsafeAddrOfPinnedArrayElement(second, 0), second);
        using var x = Tensor.Zeros(5, 8);
        using var first = Tensor.Zeros(3, 2);
        using var scratch = Tensor.Zeros(5, 6);
        using var y = Tensor.Zeros(5, 9);
        void Refused(string expected, Action call) => Assert.Contains(expected, Assert.Throws<ArgumentException>(call).Message);

        Refused("is not 2 blocks of 4", () => backend.KroneckerLinear(Tensor.Zeros(5, 7), first, weight, scratch, y, 0, 0, 9));
        Refused("scratch [5, 5] must be [5, 2·3]", () => backend.KroneckerLinear(x, first, weight, Tensor.Zeros(5, 5), y, 0, 0, 9));
        Refused("outside the 3·3 of A ⊗ B", () => backend.KroneckerLinear(x, first, weight, scratch, y, 0, 4, 6));
        Refused("columns [1, 10) outside [5, 9]", () => backend.KroneckerLinear(x, first, weight, scratch, y, 1, 0, 9));
        Refused("does not have 5 rows", () => backend.KroneckerLinear(x, first, weight, scratch, Tensor.Zeros(4, 9), 0, 0, 9));
        Refused("must be a matrix", () => backend.KroneckerLinear(x, Tensor.Zeros(6), weight, scratch, y, 0, 0, 9));
        Refused("not Float32", () => backend.KroneckerLinear(x, Tensor.Zeros(DType.Int64, 3, 2), weight, scratch, y, 0, 0, 9));
    }

    /// <summary>The whole product, a range inside one block, and ranges that start and end inside blocks.</summary>
    private static IEnumerable<(int Start, int Count)> Ranges(int outputs) =>
        new[] { (0, outputs), (outputs / 3, Math.Max(1, outputs / 2)), (1, outputs - 1), (outputs - 1, 1) }
            .Where(r => r.Item1 + r.Item2 <= outputs).Distinct();
}
