using Flux2.Core.SafeTensors;
using Flux2.Cpu.Kernels;
using Flux2.Tests;
using static Flux2.Cpu.Tests.Kernels.KernelTestData;

namespace Flux2.Cpu.Tests.Kernels;

public unsafe class TimestepSinusoidTests
{
    [Fact]
    public void ZeroGivesCosinesOfOneThenSinesOfZero()
    {
        float[] t = [0f];
        var emb = new float[256];
        fixed (float* pt = t, pe = emb) TimestepSinusoid.Run(pt, 1, 1000f, pe, 256);
        Assert.All(emb[..128], v => Assert.Equal(1f, v));
        Assert.All(emb[128..], v => Assert.Equal(0f, v));
    }

    [Theory]
    [InlineData("tiny_dev", "inputs.timestep", "trace.timestep_proj")]
    [InlineData("tiny_dev", "inputs.guidance", "trace.guidance_proj")]
    [InlineData("tiny_klein", "inputs.timestep", "trace.timestep_proj")]
    [InlineData("head128", "inputs.guidance", "trace.guidance_proj")]
    public void MatchesTheGoldenTraceOf1000TimesSigma(string name, string input, string trace)
    {
        using var io = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
        var t = io.Get(input).ToFloat32Array();
        var emb = new float[t.Length * 256];
        fixed (float* pt = t, pe = emb) TimestepSinusoid.Run(pt, t.Length, 1000f, pe, 256);
        // 1000·g ≈ 4000: only an exp that rounds like the reference reaches 1e-6 (a correctly rounded one is off by 1.2e-4).
        AssertClose(io.Get(trace).ToFloat32Array(), emb, 1e-6f);
    }

    [Fact]
    public void FrequencyDivisorIsHalfNotHalfMinusOne()
    {
        // Channel half−1 is cos(t'·exp(−ln(10000)·127/128)), not cos(t'/10000).
        float[] t = [1f];
        var emb = new float[256];
        fixed (float* pt = t, pe = emb) TimestepSinusoid.Run(pt, 1, 1000f, pe, 256);
        Assert.Equal(Math.Cos(1000 * Math.Exp(-Math.Log(10000) * 127 / 128)), emb[127], 4);
    }
}
