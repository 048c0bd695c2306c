using Flux2.Core;

namespace Flux2.Core.Tests.Backend;

public class DeviceRefTests
{
    [Theory]
    [InlineData("cpu", DeviceKind.Cpu, 0)]
    [InlineData("CPU:0", DeviceKind.Cpu, 0)]
    [InlineData("cuda", DeviceKind.Gpu, 0)]
    [InlineData("cuda:3", DeviceKind.Gpu, 3)]
    [InlineData(" gpu:1 ", DeviceKind.Gpu, 1)]
    public void ParsesTheDevicesUsersWrite(string text, DeviceKind kind, int id)
    {
        Assert.True(DeviceRef.TryParse(text, out var device));
        Assert.Equal(new DeviceRef(kind, id), device);
    }

    [Theory]
    [InlineData("")]
    [InlineData("tpu")]
    [InlineData("cuda:")]
    [InlineData("cuda:-1")]
    [InlineData("cuda:1:2")]
    [InlineData("cpu:1")]
    public void RejectsAnythingElse(string text) => Assert.False(DeviceRef.TryParse(text, out _));
}
