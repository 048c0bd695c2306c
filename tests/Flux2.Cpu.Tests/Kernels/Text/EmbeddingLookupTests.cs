using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Cpu.Kernels.Text;

namespace Flux2.Cpu.Tests.Kernels.Text;

public sealed unsafe class EmbeddingLookupTests
{
    [Fact]
    public void GathersDecodedRows()
    {
        const int vocab = 5, hidden = 3;
        var bits = new ushort[vocab * hidden];
        for (int i = 0; i < bits.Length; i++) bits[i] = BFloat16Bits.FromFloat(i * 0.5f - 2);
        long[] ids = [4, 0, 4, 2];
        var output = new float[ids.Length * hidden];
        fixed (ushort* t = bits)
        fixed (long* idp = ids)
        fixed (float* o = output)
        {
            var table = new LinearWeight("embed", vocab, hidden, WeightFormat.BFloat16, (nint)t);
            EmbeddingLookup.Run(table, idp, ids.Length, o);
        }
        for (int r = 0; r < ids.Length; r++)
            for (int d = 0; d < hidden; d++)
                Assert.Equal(ids[r] * hidden * 0.5f + d * 0.5f - 2, output[r * hidden + d]);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(5L)]
    public void RejectsIdsOutsideTheVocabulary(long id)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => LookUpOne(id));
        Assert.Contains("embed", e.Message);
    }

    private static void LookUpOne(long id)
    {
        var data = new float[5 * 2];
        var output = new float[2];
        fixed (float* t = data, o = output)
        {
            var table = new LinearWeight("embed", 5, 2, WeightFormat.Float32, (nint)t);
            EmbeddingLookup.Run(table, &id, 1, o);
        }
    }
}
