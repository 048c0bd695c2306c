using Flux2.Core;

namespace Flux2.Core.Tests.Backend;

/// <summary>A tensor is a typed view over a storage: views share it, only the owner frees it, and host access exists only
/// for memory the host can read.</summary>
public class TensorStorageTests
{
    private sealed class DeviceMemory(long bytes) : TensorStorage(DeviceRef.Gpu(2), bytes)
    {
        public bool Disposed { get; private set; }
        public override bool IsHostAccessible => false;
        public override nint HostAddress => throw new InvalidOperationException("device memory");
        public override void Dispose() => Disposed = true;
    }

    [Fact]
    public void ViewsShareTheOwnersStorageAtTheirOffset()
    {
        using var t = Tensor.FromArray([0f, 1, 2, 3, 4, 5], 3, 2);
        var row = t.Slice0(1, 2);
        Assert.Same(t.Storage, row.Storage);
        Assert.Equal(8, row.ByteOffset);
        Assert.Equal([2f, 3, 4, 5], row.ToArray<float>());
        row.Dispose(); // a view frees nothing
        Assert.Equal([0f, 1, 2, 3, 4, 5], t.ToArray<float>());
    }

    [Fact]
    public void SliceRowsIsARowRangeOfOneBatchElement()
    {
        using var t = Tensor.FromArray(Enumerable.Range(0, 2 * 3 * 2).Select(i => (float)i).ToArray(), 2, 3, 2);
        var rows = t.SliceRows(1, 1, 2);
        Assert.Equal([1, 2, 2], rows.Shape);
        Assert.Equal([8f, 9, 10, 11], rows.ToArray<float>());
        Assert.Throws<ArgumentException>(() => t.Reshape(6, 2).SliceRows(0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.SliceRows(1, 2, 2));
    }

    [Fact]
    public void HostAccessToDeviceMemoryIsAnErrorNamingTheDevice()
    {
        var memory = new DeviceMemory(24);
        var t = Tensor.Create(memory, DType.Float32, 2, 3);
        Assert.False(t.IsHostAccessible);
        Assert.Equal(DeviceRef.Gpu(2), t.Device);
        var e = Assert.Throws<InvalidOperationException>(() => t.AsSpan<float>());
        Assert.Contains("gpu:2", e.Message);
        Assert.Throws<InvalidOperationException>(() => t.Reshape(6).Data);
        t.Dispose();
        Assert.True(memory.Disposed);
    }

    [Fact]
    public void ATensorMustFitItsStorage()
    {
        var memory = new DeviceMemory(16);
        Assert.Throws<ArgumentException>(() => Tensor.Create(memory, DType.Float32, 5));
        Assert.Throws<ArgumentException>(() => Tensor.View(memory, 8, DType.Float32, 3));
        Assert.Equal(2, Tensor.View(memory, 8, DType.Float32, 2).Length);
    }

    [Fact]
    public void ADisposedHostTensorIsNotReadable()
    {
        var t = Tensor.Zeros(4);
        var view = t.Reshape(2, 2);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => view.AsSpan<float>());
    }
}
