using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Tests.Gemm;
using Flux2.Cpu.Kernels;
using Flux2.Cpu.Threading;
using static Flux2.Cpu.Tests.Kernels.KernelTestData;

namespace Flux2.Cpu.Tests.Kernels;

public unsafe class FlashAttentionTests
{
    [Theory]
    [MemberData(nameof(Ragged), MemberType = typeof(KernelTestData))]
    public void MatchesOracleForRaggedHeadDims(int headDim) => Check(batch: 2, lq: 70, lk: 67, heads: 3, headDim, fused: true);

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 200)]
    [InlineData(65, 129)]
    [InlineData(130, 5)]
    public void MatchesOracleForRaggedLengths(int lq, int lk) => Check(batch: 1, lq, lk, heads: 2, headDim: 16, fused: false);

    /// <summary>Head dims the GEMM microkernel runs (multiples of its width), over several query and key tiles.</summary>
    [Theory]
    [InlineData(200, 300, 128)]
    [InlineData(97, 129, 64)]
    [InlineData(300, 1, 32)]
    public void MatchesOracleOnTheMicrokernelPath(int lq, int lk, int headDim) => Check(batch: 2, lq, lk, heads: 2, headDim, fused: false);

    [Fact]
    public void FusedBuffersOnTheMicrokernelPath() => Check(batch: 1, lq: 230, lk: 230, heads: 3, headDim: 128, fused: true);

    [Fact]
    public void OneWideHeadAsInTheVaeMidBlock() => Check(batch: 1, lq: 40, lk: 40, heads: 1, headDim: 512, fused: false, scale: 1 / MathF.Sqrt(512));

    [Fact]
    public void LargeScoresStayFinite() => Check(batch: 1, lq: 20, lk: 300, heads: 1, headDim: 32, fused: false, valueScale: 30f);

    /// <summary>The microkernel path on the AVX2 kernel (6 × 16 tiles, an 8-lane softmax), as on processors without AVX-512.</summary>
    [Theory]
    [InlineData(200, 300, 128, false)]
    [InlineData(97, 129, 64, false)]
    [InlineData(300, 1, 16, false)]
    [InlineData(230, 230, 128, true)]
    public void Avx2KernelMatchesOracle(int lq, int lk, int headDim, bool fused)
    {
        Assert.SkipUnless(GemmKernel.Avx2.IsSupported, "this processor has no AVX2");
        Check(batch: 2, lq, lk, heads: 2, headDim, fused, kernel: GemmKernel.Avx2);
    }

    /// <summary>The bf16 products (q, k, probabilities and v rounded to bf16, sums and softmax in fp32) against the fp32 oracle:
    /// odd key counts (a zero-padded last key pair), one key, several tiles, fused buffers.</summary>
    [Theory]
    [InlineData(200, 300, 128, false)]
    [InlineData(97, 129, 64, false)]
    [InlineData(300, 1, 32, false)]
    [InlineData(230, 230, 128, true)]
    [InlineData(5, 433, 128, false)]
    public void Bf16ProductsStayWithinTheirBound(int lq, int lk, int headDim, bool fused)
    {
        var kernel = Bf16Kernel.Required();
        Check(batch: 2, lq, lk, heads: 3, headDim, fused, atol: Bf16Tolerance, bf16: kernel);
    }

    /// <summary>bf16 keeps 8 significant bits: a value |v| ≤ 1 moves by up to 2⁻⁹ (one key: the output is v rounded, 1.9e-3
    /// off here), and the scores and weights by about as much relatively; twice the largest error seen.</summary>
    private const float Bf16Tolerance = 4e-3f;

    private static void Check(int batch, int lq, int lk, int heads, int headDim, bool fused, float? scale = null, float valueScale = 1f,
        float atol = 2e-5f, Bf16MicroKernel? bf16 = null, GemmKernel? kernel = null)
    {
        float s = scale ?? 1 / MathF.Sqrt(headDim);
        int width = heads * headDim;
        // fused: q, k, v are column ranges of one [B, L, 3·width + 1] buffer (lq = lk needed), else separate buffers.
        if (fused) lk = lq;
        int ldq = fused ? 3 * width + 1 : width, ldk = ldq, ldo = width + 2;
        var qkv = Random(batch * lq * ldq, 21, valueScale);
        var kBuf = fused ? qkv : Random(batch * lk * ldk, 22, valueScale);
        var vBuf = fused ? qkv : Random(batch * lk * ldk, 23);
        var got = new float[batch * lq * ldo];
        var want = new float[batch * lq * ldo];
        fixed (float* pq = qkv, pk = kBuf, pv = vBuf, pg = got, pw = want)
        {
            var q = new AttentionOperand(pq, lq, ldq);
            var k = new AttentionOperand(fused ? pk + width : pk, lk, ldk);
            var v = new AttentionOperand(fused ? pv + 2 * width : pv, lk, ldk);
            FlashAttention.Run(ComputePool.Shared, q, k, v, new AttentionOperand(pg + 1, lq, ldo), batch, heads, headDim, s, bf16, kernel);
            FlashAttentionReference.Run(q, k, v, new AttentionOperand(pw + 1, lq, ldo), batch, heads, headDim, s);
        }
        AssertClose(want, got, atol, bf16 == null ? 1e-4f : 0);
        Assert.All(got, x => Assert.True(float.IsFinite(x)));
    }
}
