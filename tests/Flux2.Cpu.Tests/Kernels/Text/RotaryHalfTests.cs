using Flux2.Cpu.Kernels.Text;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Tests.Kernels.Text;

public sealed unsafe class RotaryHalfTests
{
    private static readonly ComputePool Pool = new(3);

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    public void MatchesScalarTwin(int half)
    {
        int batch = 2, length = 19, heads = 3, headDim = 2 * half;
        var rng = new Random(half);
        var x = Random(rng, batch * length * heads * headDim);
        var cos = Random(rng, length * half);
        var sin = Random(rng, length * half);
        var expected = (float[])x.Clone();
        fixed (float* e = expected, a = x, c = cos, s = sin)
        {
            RotaryHalfReference.Run(e, batch, length, heads, headDim, c, s);
            RotaryHalf.Run(Pool, a, batch, length, heads, headDim, c, s);
        }
        Assert.Equal(expected, x);
    }

    [Fact]
    public void RotatesTheTwoHalvesNotAdjacentPairs()
    {
        // One head of dim 4 at position 1 of 2: pairs are (x0, x2) and (x1, x3), never (x0, x1).
        float[] x = [0, 0, 0, 0, 1, 2, 3, 4];
        float[] cos = [1, 1, 0.6f, 0.8f];
        float[] sin = [0, 0, 0.8f, 0.6f];
        fixed (float* p = x, c = cos, s = sin) RotaryHalf.Run(Pool, p, 1, 2, 1, 4, c, s);
        float[] expected = [0, 0, 0, 0, 1 * 0.6f - 3 * 0.8f, 2 * 0.8f - 4 * 0.6f, 3 * 0.6f + 1 * 0.8f, 4 * 0.8f + 2 * 0.6f];
        Assert.Equal(expected, x);
        float[] interleaved = [0, 0, 0, 0, 1 * 0.6f - 2 * 0.8f, 2 * 0.6f + 1 * 0.8f, 3 * 0.8f - 4 * 0.6f, 4 * 0.8f + 3 * 0.6f];
        Assert.NotEqual(interleaved, x);
    }

    private static float[] Random(Random rng, int n)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1);
        return a;
    }
}
