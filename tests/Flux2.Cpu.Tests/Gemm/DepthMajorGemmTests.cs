using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Tests.Kernels;
using Flux2.Cpu.Threading;
using GemmOp = Flux2.Cpu.Gemm.Gemm;

namespace Flux2.Cpu.Tests.Gemm;

/// <summary>x·B with B stored by rows of K (the convolution's patches) against the reference product with W = Bᵀ, in fp32 and
/// in bf16 products: ragged column strips, odd depths, several kc slices, column and row tasks, strides past the rows.</summary>
public unsafe class DepthMajorGemmTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (12, 32, 2), (13, 33, 3), (9, 31, 17), (30, 70, 777), (400, 40, 20), (37, 1700, 64),
    ];

    [Fact]
    public void Fp32MatchesTheReference() => Compare(bf16: null);

    [Fact]
    public void Bf16MatchesTheRoundedReference() => Compare(Bf16Kernel.Required());

    private static void Compare(Bf16MicroKernel? bf16)
    {
        foreach (var (m, n, k) in Shapes)
            foreach (bool accumulate in new[] { false, true })
            {
                int seed = m * 31 + n * 7 + k;
                int ldx = k + 2, ldb = n + 3, ldy = n + 5;
                var x = KernelTestData.Random(m * ldx, seed);
                var b = KernelTestData.Random(k * ldb, seed + 1);
                var y = KernelTestData.Random(m * ldy, seed + 2);
                var expected = (float[])y.Clone();
                // W [N, K] = Bᵀ for the reference.
                var transposed = GC.AllocateArray<float>(n * k, pinned: true);
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < n; j++) transposed[j * k + i] = b[i * ldb + j];
                var w = new LinearWeight("bt", n, k, WeightFormat.Float32, Marshal.UnsafeAddrOfPinnedArrayElement(transposed, 0), transposed);
                fixed (float* xp = x, bp = b, yp = y, ep = expected)
                {
                    GemmOp.MultiplyDepthMajor(xp, m, ldx, bp, ldb, n, k, yp, ldy, accumulate, ComputePool.Shared, bf16);
                    if (bf16 != null) GemmReference.MultiplyBf16(xp, m, ldx, w, ep, ldy, accumulate);
                    else GemmReference.Multiply(xp, m, ldx, w, ep, ldy, accumulate);
                }
                float tolerance = 2e-6f * k + 1e-6f; // the order of the fp32 sums only
                for (int i = 0; i < expected.Length; i++)
                    if (!(Math.Abs(expected[i] - y[i]) <= tolerance))
                        Assert.Fail($"{(bf16 != null ? "bf16" : "fp32")} M={m} N={n} K={k} accumulate={accumulate}: element {i} is {y[i]}, expected {expected[i]}");
            }
    }
}
