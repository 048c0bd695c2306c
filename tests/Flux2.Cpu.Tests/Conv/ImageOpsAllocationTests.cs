using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Threading;
using Flux2.Tests;

namespace Flux2.Cpu.Tests.Conv;

public sealed class ImageOpsAllocationTests : IDisposable
{
    private readonly ComputePool _pool = new(3);
    private readonly CpuBackend _backend;

    public ImageOpsAllocationTests()
    {
        _backend = new CpuBackend(_pool);
    }

    public void Dispose() => _pool.Dispose();

    [Fact]
    public void Image_ops_allocate_nothing_once_warm()
    {
        var rng = new Random(4);
        using var x = ConvTestData.Random(rng, 1, 0, 1, 32, 16, 16);
        using var y = Tensor.Zeros(x.Shape);
        using var up = Tensor.Zeros(1, 32, 32, 32);
        using var t = Tensor.Zeros(1, 256, 32);
        using var gamma = ConvTestData.Random(rng, 0.1f, 1, 32);
        using var rows = x.Reshape(1, 32, 256);
        var weight = ConvTestData.Weight(rng, 16, 32 * 9, WeightFormat.BFloat16);
        using var bias = ConvTestData.Random(rng, 0.1f, 0, 16);
        using var down = Tensor.Zeros(1, 16, 8, 8);
        void RunAll()
        {
            _backend.Conv2d(x, weight, 3, bias, 2, new Conv2dPadding(0, 1, 0, 1), down);
            _backend.GroupNorm(x, 8, 1e-6f, gamma, gamma, true, y);
            _backend.UpsampleNearest2x(x, up);
            _backend.TransposeLastTwo(rows, t);
        }
        RunAll();
        Assert.Equal(0, SteadyStateAllocation.OnCallingThread(RunAll));
    }
}
