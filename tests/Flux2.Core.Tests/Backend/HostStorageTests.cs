using Flux2.Core;

namespace Flux2.Core.Tests.Backend;

/// <summary>Host tensors are zero-filled and 64-byte aligned whether their memory comes from the allocator or, from 2 MiB on,
/// straight from the kernel's pages; memory freed and taken again is zero again.</summary>
public unsafe class HostStorageTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData((2 << 20) / 4 - 1)]
    [InlineData((2 << 20) / 4)]
    [InlineData(3_000_001)]
    public void TensorsAreZeroFilledAlignedAndWritable(int floats)
    {
        for (int round = 0; round < 2; round++)
        {
            using var t = Tensor.Zeros(floats);
            Assert.Equal(0, t.Storage.HostAddress % 64);
            var values = t.AsSpan<float>();
            Assert.True(values.IndexOfAnyExcept(0f) < 0, $"round {round}: a fresh tensor of {floats} floats is not zero");
            values.Fill(7f); // dirty the memory the next round may be given
            Assert.Equal(7f, values[^1]);
        }
    }

    [Fact]
    public void DisposingTwiceFreesOnce()
    {
        var storage = new HostStorage(4 << 20);
        storage.Dispose();
        storage.Dispose();
        Assert.Throws<ObjectDisposedException>(() => storage.HostAddress);
    }
}
