using System.Text.Json;
using Flux2.Core;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>Configurations and real-shape tensor lists for the inspection tests (broken golden copies: <see cref="SafeTensorsRewrite"/>).</summary>
public static class TestCheckpoints
{
    public static Flux2Config GoldenConfig(string caseName)
    {
        using var doc = JsonDocument.Parse(GoldenRepository.ConfigJson(caseName));
        return Flux2Config.InitializeFromConfig(doc.RootElement, "bfloat16", [DeviceRef.Cpu()]);
    }

    /// <summary>A sparse single file or shard set with every tensor a real transformer requires, in its stored form.</summary>
    public static IReadOnlyList<(string Name, DType DType, long[] Shape)> RealShapes(Flux2Config config, TensorNaming naming, Func<string, LinearStorage> storageOf) =>
        TransformerRequirements.For(config, naming, storageOf).Select(r => (r.Name, r.DTypes[0], r.Shapes[0])).ToList();
}
