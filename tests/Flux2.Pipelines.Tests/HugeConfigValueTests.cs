using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Models.Checkpoints;
using Flux2.Tests;

namespace Flux2.Pipelines.Tests;

/// <summary>
/// A config value far beyond what the weights hold (<c>"num_layers": 1000000000</c>) is refused against the tensors present,
/// before anything sized by it is built: loading and <c>flux2 info</c>'s inspection both fail (or report a problem) at once,
/// having allocated little.
/// </summary>
public sealed class HugeConfigValueTests(TinyKleinModel klein) : IClassFixture<TinyKleinModel>
{
    private const long AllocationBound = 256L << 20;

    public static TheoryData<string, string, string> Cases => new()
    {
        { "transformer", "num_layers", "1000000000" },
        { "transformer", "num_single_layers", "1000000000" },
        { "transformer", "num_attention_heads", "1000000000" },
        { "transformer", "joint_attention_dim", "1000000000" },
        { "transformer", "mlp_ratio", "1000000000" },
        { "vae", "layers_per_block", "1000000000" },
        { "vae", "block_out_channels", "[1000000000, 1000000000]" },
        { "vae", "latent_channels", "1000000000" },
        { "text_encoder", "hidden_size", "1000000000" },
        { "text_encoder", "intermediate_size", "1000000000" },
        { "text_encoder", "vocab_size", "1000000000" },
        { "text_encoder", "num_attention_heads", "1000000000" },
        { "text_encoder", "head_dim", "1000000000" },
    };

    [Fact]
    public void ATextEncoderLayerCountAboveTheLayersPresentCostsNothing()
    {
        // Only the layers up to the last stacked hidden state are read (a checkpoint may omit the later ones), so the
        // count is never used to size anything: loading works, and allocates no more than usual.
        WithConfigValue("text_encoder", "num_hidden_layers", "1000000000", () =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            TestPipeline.Load(klein.Folder).Dispose();
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < AllocationBound, "allocated too much");
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void LoadingRefusesItBeforeAllocating(string component, string key, string value)
    {
        WithConfigValue(component, key, value, () =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var e = Assert.ThrowsAny<Flux2Exception>(() => TestPipeline.Load(klein.Folder).Dispose());
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < AllocationBound, "allocated too much before refusing");
            Assert.Contains(component, e.Message);
        });
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void InspectionReportsItBeforeAllocating(string component, string key, string value)
    {
        WithConfigValue(component, key, value, () =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var inspection = CheckpointInspector.Inspect(klein.Folder);
                Assert.False(inspection.IsComplete);
            }
            catch (Flux2Exception)
            {
                // refused outright: as good as a problem in the report
            }
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < AllocationBound, "allocated too much before refusing");
        });
    }

    private void WithConfigValue(string component, string key, string value, Action test)
    {
        var path = Path.Combine(klein.Folder, component, "config.json");
        var original = File.ReadAllText(path);
        var config = JsonNode.Parse(original)!.AsObject();
        config[key] = JsonNode.Parse(value);
        File.WriteAllText(path, config.ToJsonString());
        try
        {
            test();
        }
        finally
        {
            File.WriteAllText(path, original);
        }
    }
}
