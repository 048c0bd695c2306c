using Flux2.Cpu.Gemm;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Tests.Gemm;
using Flux2.Cpu.Kernels.Text;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Tests.Kernels.Text;

public sealed unsafe class CausalMaskedAttentionTests
{
    private static readonly ComputePool Pool = new(3);

    public enum Padding { None, Left, Right, Holes, AllPad }

    public static TheoryData<int, int, int, int, Padding> Cases()
    {
        var data = new TheoryData<int, int, int, int, Padding>();
        foreach (int length in new[] { 1, 7, 15, 16, 17, 63, 64, 65, 130 })
            data.Add(length, 4, 2, 24, Padding.Left);
        foreach (int headDim in new[] { 1, 7, 15, 16, 17, 63, 64, 65, 128 })
            data.Add(33, 2, 1, headDim, Padding.Right);
        data.Add(70, 6, 3, 32, Padding.Holes);
        data.Add(70, 1, 1, 16, Padding.None);
        data.Add(20, 4, 4, 8, Padding.AllPad);
        // Head dims the GEMM microkernel runs, over several query and key tiles.
        data.Add(200, 4, 2, 128, Padding.Left);
        data.Add(300, 8, 2, 32, Padding.Holes);
        data.Add(130, 2, 1, 64, Padding.AllPad);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesScalarTwin(int length, int qHeads, int kvHeads, int headDim, Padding padding) =>
        Check(length, qHeads, kvHeads, headDim, padding, tolerance: 1e-5f, bf16: null);

    /// <summary>The microkernel path on the AVX2 kernel (6 × 16 tiles, an 8-lane softmax), as on processors without AVX-512:
    /// every kind of padding, several query and key tiles.</summary>
    [Theory]
    [InlineData(200, 4, 2, 128, Padding.Left)]
    [InlineData(300, 8, 2, 32, Padding.Holes)]
    [InlineData(130, 2, 1, 64, Padding.AllPad)]
    [InlineData(33, 2, 1, 16, Padding.Right)]
    [InlineData(70, 1, 1, 16, Padding.None)]
    public void Avx2KernelMatchesScalarTwin(int length, int qHeads, int kvHeads, int headDim, Padding padding)
    {
        Assert.SkipUnless(GemmKernel.Avx2.IsSupported, "this processor has no AVX2");
        Check(length, qHeads, kvHeads, headDim, padding, tolerance: 1e-5f, bf16: null, GemmKernel.Avx2);
    }

    /// <summary>bf16 products under every kind of padding, odd first real keys (left padding) and pads in the middle included.</summary>
    [Theory]
    [InlineData(200, 4, 2, 128, Padding.Left)]
    [InlineData(65, 4, 2, 128, Padding.Left)]
    [InlineData(300, 8, 2, 32, Padding.Holes)]
    [InlineData(130, 2, 1, 64, Padding.AllPad)]
    [InlineData(33, 2, 1, 128, Padding.Right)]
    [InlineData(70, 2, 1, 32, Padding.None)]
    public void Bf16ProductsStayWithinTheirBound(int length, int qHeads, int kvHeads, int headDim, Padding padding)
    {
        var kernel = Bf16Kernel.Required();
        Check(length, qHeads, kvHeads, headDim, padding, tolerance: Bf16Tolerance, kernel);
    }

    /// <summary>Inputs in [−2, 2] (twice the flash tests'), and early rows see few keys, so nothing averages the rounding out:
    /// the largest error seen is between 8e-3 and 1e-2; the bound is twice that.</summary>
    private const float Bf16Tolerance = 2e-2f;

    private static void Check(int length, int qHeads, int kvHeads, int headDim, Padding padding, float tolerance, Bf16MicroKernel? bf16,
        GemmKernel? kernel = null)
    {
        foreach (var mode in new[] { FullyMaskedRows.Zero, FullyMaskedRows.Uniform })
        {
            const int batch = 2;
            var rng = new Random(length * 1000 + headDim);
            var q = Random(rng, batch * length * qHeads * headDim);
            var k = Random(rng, batch * length * kvHeads * headDim);
            var v = Random(rng, batch * length * kvHeads * headDim);
            var mask = Mask(rng, batch, length, padding);
            var expected = new float[q.Length];
            var actual = new float[q.Length];
            fixed (float* qp = q, kp = k, vp = v, e = expected, a = actual)
            fixed (long* m = mask)
            {
                CausalMaskedAttentionReference.Run(qp, kp, vp, m, e, batch, length, qHeads, kvHeads, headDim, mode);
                CausalMaskedAttention.Run(Pool, qp, kp, vp, m, a, batch, length, qHeads, kvHeads, headDim, mode, bf16, kernel);
            }
            float relative = bf16 == null ? tolerance : 0;
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance + relative * Math.Abs(expected[i]),
                    $"{mode} element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    [Fact]
    public void FullyMaskedRowsAreZeroOrTheMeanOfAllValues()
    {
        // Left padding: rows 0 and 1 are pads whose causal window holds only pad keys.
        const int length = 4, headDim = 2;
        float[] q = [1, 0, 0, 1, 1, 1, 2, 0];
        float[] k = [1, 2, 3, 4, 5, 6, 7, 8];
        float[] v = [1, 10, 2, 20, 3, 30, 6, 60];
        long[] mask = [0, 0, 1, 1];
        var zero = Run(q, k, v, mask, length, headDim, FullyMaskedRows.Zero);
        var uniform = Run(q, k, v, mask, length, headDim, FullyMaskedRows.Uniform);
        Assert.Equal([0f, 0f, 0f, 0f], zero[..4]);
        Assert.Equal([3f, 30f, 3f, 30f], uniform[..4]);
        Assert.Equal(zero[4..], uniform[4..]);
        Assert.Equal([3f, 30f], zero[4..6]); // row 2 sees only itself
    }

    private static float[] Run(float[] q, float[] k, float[] v, long[] mask, int length, int headDim, FullyMaskedRows mode)
    {
        var o = new float[q.Length];
        fixed (float* qp = q, kp = k, vp = v, op = o)
        fixed (long* m = mask)
            CausalMaskedAttention.Run(Pool, qp, kp, vp, m, op, 1, length, 1, 1, headDim, mode);
        return o;
    }

    private static long[] Mask(Random rng, int batch, int length, Padding padding)
    {
        var mask = new long[batch * length];
        for (int b = 0; b < batch; b++)
        {
            int real = Math.Max(1, length - (b + 1) * length / 3);
            for (int j = 0; j < length; j++)
                mask[b * length + j] = padding switch
                {
                    Padding.None => 1,
                    Padding.Left => j >= length - real ? 1 : 0,
                    Padding.Right => j < real ? 1 : 0,
                    Padding.Holes => rng.Next(3) == 0 ? 0 : 1,
                    _ => 0,
                };
        }
        return mask;
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 4 - 2);
        return a;
    }
}
