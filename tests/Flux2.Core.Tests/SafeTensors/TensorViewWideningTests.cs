using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

public class TensorViewWideningTests
{
    [Fact]
    public void Fp8ElementsWidenToTheirOwnValues()
    {
        using var dir = new TempDirectory();
        var path = dir.File("f8.safetensors");
        var w = new SafeTensorsWriter();
        w.Add("e4m3", DType.Float8E4M3, [4], new byte[] { 0x38, 0xB8, 0x7E, 0x01 });
        w.Add("e5m2", DType.Float8E5M2, [3], new byte[] { 0x3C, 0xC0, 0x7B });
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal([1f, -1f, 448f, 1f / 512], f.Get("e4m3").ToFloat32Array());
        Assert.Equal([1f, -2f, 57344f], f.Get("e5m2").ToFloat32Array());
    }
}
