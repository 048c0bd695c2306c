using Flux2.Cpu.Gemm;

namespace Flux2.Cpu.Tests.Gemm;

/// <summary>The panel transpose on its own: every row count up to the panel's width (16-row register blocks, 4-row
/// blocks, single rows and zero rows) and depths around the 16 and 4 block sizes.</summary>
public unsafe class PanelPackerTests
{
    [Theory]
    [InlineData(12)]
    [InlineData(32)]
    [InlineData(48)]
    public void InterleaveTransposesAndZeroFillsMissingRows(int width)
    {
        var random = new Random(width);
        float** rows = stackalloc float*[width];
        foreach (int kc in new[] { 1, 3, 4, 15, 16, 17, 33, 64, 70 })
            for (int count = 0; count <= width; count++)
            {
                // Rows with a stride longer than kc, as weight rows read in place are.
                int stride = kc + 5;
                var source = new float[width * stride];
                for (int i = 0; i < source.Length; i++) source[i] = random.NextSingle() - 0.5f;
                var packed = new float[kc * width];
                Array.Fill(packed, float.NaN);
                fixed (float* s = source, d = packed)
                {
                    for (int i = 0; i < count; i++) rows[i] = s + i * stride;
                    PanelPacker.Interleave(rows, count, width, kc, d);
                }
                for (int p = 0; p < kc; p++)
                    for (int i = 0; i < width; i++)
                    {
                        float expected = i < count ? source[i * stride + p] : 0f;
                        if (packed[p * width + i] != expected)
                            Assert.Fail($"width {width}, {count} rows, kc {kc}: element [{p}, {i}] is {packed[p * width + i]}, expected {expected}");
                    }
            }
    }
}
