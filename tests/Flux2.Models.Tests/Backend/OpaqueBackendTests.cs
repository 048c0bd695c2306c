using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.Backend;

/// <summary>The opaque test backend refuses what a device backend cannot do, so that golden tests run through it prove the
/// models and pipelines keep the backend contract.</summary>
public class OpaqueBackendTests
{
    private static OpaqueBackend Create() => new(new CpuBackend());

    [Fact]
    public void ItsTensorsRefuseHostAccess()
    {
        using var backend = Create();
        using var t = backend.Upload<float>([1f, 2f], 2);
        Assert.False(t.IsHostAccessible);
        Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
        Assert.Equal([1f, 2f], backend.Download<float>(t));
    }

    [Fact]
    public void OpsRunOnlyAtTheNextDownloadInCallOrder()
    {
        using var backend = Create();
        using var x = backend.Upload<float>([1f, 2f], 1, 2);
        using var v = backend.Upload<float>([10f, 20f], 1, 2);
        var values = new[] { 100f, 200f };
        backend.Upload<float>(values, v); // queued after the first upload
        values[0] = -1f; // the upload took its copy
        backend.EulerStep(x, v, 0.5f);
        Assert.True(backend.Pending > 0);
        Assert.Equal([51f, 102f], backend.Download<float>(x));
        Assert.Equal(0, backend.Pending);
    }

    [Fact]
    public void TensorsOfOtherBackendsAreRefused()
    {
        using var backend = Create();
        using var mine = backend.Allocate(DType.Float32, 1, 2);
        using var host = Tensor.Zeros(1, 2);
        var e = Assert.Throws<ArgumentException>(() => backend.EulerStep(mine, host, 1f));
        Assert.Contains("not allocated by this backend", e.Message);
        using var other = Create();
        using var theirs = other.Allocate(DType.Float32, 1, 2);
        Assert.Throws<ArgumentException>(() => backend.Copy(theirs, mine));
    }

    [Fact]
    public void WeightsMustBeMadeResidentThroughLoadLinear()
    {
        using var backend = Create();
        using var stored = Tensor.FromArray([1f, 0f, 0f, 1f], 2, 2);
        var weight = new LinearWeight("w", 2, 2, WeightFormat.Float32, stored.Data);
        using var x = backend.Upload<float>([3f, 4f], 1, 2);
        using var y = backend.Allocate(DType.Float32, 1, 2);
        Assert.Contains("LoadLinear", Assert.Throws<ArgumentException>(() => backend.Linear(x, weight, y)).Message);

        using var resident = backend.LoadLinear(weight);
        Assert.False(resident.IsHostAccessible);
        stored.AsSpan<float>().Clear(); // the resident copy no longer depends on the stored bytes
        backend.Linear(x, resident, y);
        Assert.Equal([3f, 4f], backend.Download<float>(y));
    }

    [Fact]
    public void MemoryIsFreedAfterTheOpsQueuedBeforeItsDisposal()
    {
        using var backend = Create();
        using var destination = backend.Allocate(DType.Float32, 3);
        var source = backend.Upload<float>([1f, 2f, 3f], 3);
        backend.Copy(source, destination);
        source.Dispose(); // stream-ordered: the queued copy still reads valid memory
        Assert.Equal([1f, 2f, 3f], backend.Download<float>(destination));
        Assert.Throws<ObjectDisposedException>(() => backend.Copy(source, destination));
    }
}
