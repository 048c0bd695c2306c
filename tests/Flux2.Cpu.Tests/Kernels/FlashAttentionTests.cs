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

    private static void Check(int batch, int lq, int lk, int heads, int headDim, bool fused, float? scale = null, float valueScale = 1f)
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
            FlashAttention.Run(ComputePool.Shared, q, k, v, new AttentionOperand(pg + 1, lq, ldo), batch, heads, headDim, s);
            FlashAttentionReference.Run(q, k, v, new AttentionOperand(pw + 1, lq, ldo), batch, heads, headDim, s);
        }
        AssertClose(want, got, 2e-5f, 1e-4f);
        Assert.All(got, x => Assert.True(float.IsFinite(x)));
    }
}
