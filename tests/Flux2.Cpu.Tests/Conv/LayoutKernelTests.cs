using Flux2.Core;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Tests.Conv;

public sealed class LayoutKernelTests : IDisposable
{
    private readonly ComputePool _pool = new(3);
    private readonly CpuBackend _backend;

    public LayoutKernelTests()
    {
        _backend = new CpuBackend(_pool);
    }

    public void Dispose() => _pool.Dispose();

    [Theory]
    [InlineData(1, 1, 1, 1)]
    [InlineData(2, 3, 7, 15)]
    [InlineData(1, 5, 16, 17)]
    [InlineData(2, 2, 63, 65)]
    public void Upsample_repeats_each_pixel_into_a_2x2_block(int batch, int channels, int h, int w)
    {
        using var x = ConvTestData.Random(new Random(h * w), 1, 0, batch, channels, h, w);
        using var y = Tensor.Zeros(batch, channels, 2 * h, 2 * w);
        _backend.UpsampleNearest2x(x, y);
        var xs = x.ToArray<float>();
        var ys = y.ToArray<float>();
        for (int p = 0; p < batch * channels; p++)
        for (int i = 0; i < 2 * h; i++)
        for (int j = 0; j < 2 * w; j++)
            Assert.Equal(xs[(p * h + i / 2) * w + j / 2], ys[(p * 2 * h + i) * 2 * w + j]);
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(2, 7, 15)]
    [InlineData(1, 31, 33)]
    [InlineData(3, 32, 64)]
    [InlineData(1, 65, 17)]
    public void Transpose_swaps_the_last_two_axes(int batch, int rows, int cols)
    {
        using var x = ConvTestData.Random(new Random(rows * cols), 1, 0, batch, rows, cols);
        using var y = Tensor.Zeros(batch, cols, rows);
        _backend.TransposeLastTwo(x, y);
        var xs = x.ToArray<float>();
        var ys = y.ToArray<float>();
        for (int b = 0; b < batch; b++)
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++)
            Assert.Equal(xs[(b * rows + i) * cols + j], ys[(b * cols + j) * rows + i]);
    }

    [Fact]
    public void Shape_mismatches_are_rejected()
    {
        using var x = Tensor.Zeros(1, 2, 3, 4);
        using var y = Tensor.Zeros(1, 2, 6, 7);
        Assert.Throws<ArgumentException>(() => _backend.UpsampleNearest2x(x, y));
        using var t = Tensor.Zeros(1, 3, 4);
        Assert.Throws<ArgumentException>(() => _backend.TransposeLastTwo(t, t));
    }
}
