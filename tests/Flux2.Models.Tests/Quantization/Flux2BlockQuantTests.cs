using System.Text.Json;
using Flux2.Core.Quantization;
using Flux2.Tests;

namespace Flux2.Models.Tests.Quantization;

public class Flux2BlockQuantTests
{
    private static readonly QuantConfig Nvfp4 = QuantConfig.MakeNvfp4Config(4);
    private static readonly QuantConfig Int8 = Nvfp4 with { Format = QuantFormat.Int8 };
    private static readonly HashSet<string> NoLayers = [];

    [Fact]
    public void Bf16RunQuantizesNothing()
    {
        var q = Flux2BlockQuant.Resolve(0, null, new HashSet<string> { "double_blocks.0.img_attn.qkv" });
        Assert.All(q.Fields, Assert.Null);
    }

    [Fact]
    public void Int8QuantizesEverythingWhateverTheMetadata()
    {
        var q = Flux2BlockQuant.Resolve(1, Int8, new HashSet<string> { "double_blocks.1.img_attn.qkv" });
        Assert.All(q.Fields, f => Assert.Same(Int8, f));
    }

    [Fact]
    public void MissingMetadataKeepsTheTextSideAttentionBf16()
    {
        // Pitfall 34: the legacy dev NVFP4 fallback.
        var q = Flux2BlockQuant.Resolve(3, Nvfp4, NoLayers);
        Assert.Equal(new Flux2BlockQuant(Nvfp4, Nvfp4, null, null, Nvfp4, Nvfp4), q);
    }

    [Fact]
    public void MetadataMembershipDecidesEachFieldOfItsOwnBlock()
    {
        var layers = new HashSet<string> { "double_blocks.2.txt_attn.proj", "double_blocks.2.img_mlp.0", "double_blocks.0.img_attn.qkv", "double_blocks.2.img_mlp.2" };
        Assert.Equal(new Flux2BlockQuant(null, null, null, Nvfp4, Nvfp4, null), Flux2BlockQuant.Resolve(2, Nvfp4, layers));
        Assert.Equal(new Flux2BlockQuant(Nvfp4, null, null, null, null, null), Flux2BlockQuant.Resolve(0, Nvfp4, layers));
        // Only block 1's keys count for block 1, and a non-empty set never falls back.
        Assert.All(Flux2BlockQuant.Resolve(1, Nvfp4, layers).Fields, Assert.Null);
    }

    [Fact]
    public void EveryFieldHasItsBflKey()
    {
        var keys = Flux2BlockQuant.BflKeys(5);
        for (int f = 0; f < 6; f++)
        {
            var q = Flux2BlockQuant.Resolve(5, Nvfp4, new HashSet<string> { keys[f] });
            Assert.Equal(Enumerable.Range(0, 6).Select(i => i == f), q.Fields.Select(x => x != null));
        }
    }

    [Theory]
    [InlineData("nvfp4_dev.json", "nvfp4_dev.bfl.safetensors")]
    [InlineData("nvfp4_dev_nometa.json", "nvfp4_dev_nometa.bfl.safetensors")]
    public void MatchesTheGoldenResolveTable(string json, string checkpoint)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden(json)));
        using var c = Core.SafeTensors.SafeTensorsCheckpoint.Open(Fixtures.Golden(checkpoint));
        var layers = QuantizationMetadata.ReadNvfp4Layers(c);
        string[] fieldNames = ["AttnQkv", "AttnOut", "AddedAttnQkv", "AddedAttnOut", "Ff", "FfContext"];
        var table = doc.RootElement.GetProperty("quantization").GetProperty("flux2_block_quant_resolve").EnumerateArray().ToList();
        Assert.Equal(2, table.Count);
        foreach (var row in table)
        {
            var q = Flux2BlockQuant.Resolve(row.GetProperty("block").GetInt32(), Nvfp4, layers);
            for (int f = 0; f < 6; f++)
            {
                var expected = row.GetProperty(fieldNames[f]);
                Assert.Equal(expected.ValueKind == JsonValueKind.String && expected.GetString() == "nvfp4", q.Fields[f] != null);
            }
        }
    }
}
