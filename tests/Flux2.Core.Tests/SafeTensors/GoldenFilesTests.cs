using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

public class GoldenFilesTests
{
    [Theory]
    [InlineData("tiny_dev.bfl.safetensors")]
    [InlineData("tiny_dev.diffusers.safetensors")]
    [InlineData("vae_small.bfl.safetensors")]
    [InlineData("nvfp4_dev.bfl.safetensors")]
    [InlineData("quant_codec.safetensors")]
    public void OpensEveryGoldenFile(string name)
    {
        using var f = SafeTensorsFile.Open(Fixtures.Golden(name));
        Assert.NotEmpty(f.Names);
        foreach (var n in f.Names)
        {
            var v = f.Get(n);
            Assert.Equal(v.ElementCount * v.DType.SizeInBytes(), v.ByteLength);
        }
    }

    [Fact]
    public void ReadsBf16WeightsAndMetadata()
    {
        using var f = SafeTensorsFile.Open(Fixtures.Golden("tiny_dev.bfl.safetensors"));
        var w = f.Get("img_in.weight");
        Assert.Equal(DType.BFloat16, w.DType);
        Assert.Equal(2, w.Shape.Length);
        Assert.Equal(128, w.Shape[1]);
        Assert.Contains("naming", f.Metadata.Keys);
        var values = w.ToFloat32Array();
        Assert.Contains(values, v => v != 0f);
    }

    [Fact]
    public void WriterRoundTrips()
    {
        using var dir = new TempDirectory();
        var path = dir.File("rt.safetensors");
        var w = new SafeTensorsWriter();
        w.Metadata["k"] = "v";
        w.AddFloat32("a", [2, 3], [1, 2, 3, 4, 5, 6]);
        w.AddInt64("ids", [2], [7, -8]);
        w.Add("scalar", DType.Float32, [], new[] { 0.5f }.AsSpan());
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(["a", "ids", "scalar"], f.Names);
        Assert.Equal([1f, 2, 3, 4, 5, 6], f.Get("a").ToFloat32Array());
        Assert.Equal([7L, -8], f.Get("ids").ToInt64Array());
        Assert.Equal([0.5f], f.Get("scalar").ToFloat32Array());
        Assert.Empty(f.Get("scalar").Shape);
        Assert.Equal("v", f.Metadata["k"]);
        Assert.Equal(0, (f.DataStart - 8) % 8);
    }
}
