using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.Quantization;

public class QuantizationMetadataTests
{
    [Fact]
    public void ReadsTheNvfp4LayersOfTheGoldenCheckpoint()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("nvfp4_dev.bfl.safetensors"));
        var layers = QuantizationMetadata.ReadNvfp4Layers(c);
        Assert.Equal(16, layers.Count);
        Assert.Contains("double_blocks.1.img_attn.qkv", layers);
        Assert.Contains("single_blocks.1.linear2", layers);
        Assert.DoesNotContain("double_blocks.0.txt_attn.qkv", layers);
    }

    [Fact]
    public void MissingMetadataGivesTheEmptySet()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("nvfp4_dev_nometa.bfl.safetensors"));
        Assert.Empty(QuantizationMetadata.ReadNvfp4Layers(c));
    }

    [Fact]
    public void Fp8MetadataHasNoNvfp4Layers()
    {
        using var c = SafeTensorsCheckpoint.Open(Fixtures.Golden("fp8_klein.bfl.safetensors"));
        Assert.Empty(QuantizationMetadata.ReadNvfp4Layers(c));
        var all = QuantizationMetadata.ParseLayers(c.Metadata[QuantizationMetadata.Key], c.Path);
        Assert.Equal(20, all.Count);
        Assert.All(all.Values, f => Assert.Equal(QuantizationMetadata.Fp8Format, f));
    }

    [Fact]
    public void KeepsOnlyObjectEntriesWithFormatNvfp4AndIgnoresOtherFields()
    {
        const string json = """
            {"format_version": "1.0", "producer": {"x": 1},
             "layers": {"a": {"format": "nvfp4", "extra": [1, 2]}, "b": "nvfp4", "c": {"format": "float8_e4m3fn"},
                        "d": {"fmt": "nvfp4"}, "e": {"format": 4}, "f": {"format": "nvfp4"}}}
            """;
        var layers = QuantizationMetadata.ParseLayers(json, "x.safetensors");
        Assert.Equal(["a", "c", "f"], layers.Keys.Order());
        Assert.Empty(QuantizationMetadata.ParseLayers("""{"format_version": "1.0"}""", "x.safetensors"));
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1, 2]")]
    [InlineData("""{"layers": [1]}""")]
    public void MalformedMetadataNamesTheFile(string json)
    {
        var e = Assert.Throws<SafeTensorsException>(() => QuantizationMetadata.ParseLayers(json, "shard-2.safetensors"));
        Assert.Equal("shard-2.safetensors", e.FilePath);
        Assert.Contains(QuantizationMetadata.Key, e.Message);
    }

    [Fact]
    public void UnionsEveryShardAndReportsTheBrokenShard()
    {
        using var dir = new TempDirectory();
        string a = WriteShard(dir.File("a.safetensors"), "t.a", QuantizationMetadata.Build([new("double_blocks.0.img_mlp.0", "nvfp4")]));
        string b = WriteShard(dir.File("b.safetensors"), "t.b", QuantizationMetadata.Build([new("single_blocks.0.linear1", "nvfp4"), new("x", "float8_e4m3fn")]));
        string bad = WriteShard(dir.File("c.safetensors"), "t.c", "{oops");
        using (var both = SafeTensorsCheckpoint.FromFiles("both", [a, b]))
            Assert.Equal(["double_blocks.0.img_mlp.0", "single_blocks.0.linear1"], QuantizationMetadata.ReadNvfp4Layers(both).Order());
        using var broken = SafeTensorsCheckpoint.FromFiles("broken", [a, bad]);
        var e = Assert.Throws<SafeTensorsException>(() => QuantizationMetadata.ReadNvfp4Layers(broken));
        Assert.Equal(bad, e.FilePath);
    }

    private static string WriteShard(string path, string tensor, string metadata)
    {
        var w = new SafeTensorsWriter();
        w.AddFloat32(tensor, [1], [1f]);
        w.Metadata[QuantizationMetadata.Key] = metadata;
        w.Write(path);
        return path;
    }
}
