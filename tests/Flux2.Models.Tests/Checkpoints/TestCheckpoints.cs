using System.Text.Json;
using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Checkpoints;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Checkpoints;

/// <summary>Builds transformer checkpoints for the inspection tests from the golden files and from the spec's real shapes.</summary>
public static class TestCheckpoints
{
    public static Flux2Config GoldenConfig(string caseName)
    {
        using var doc = JsonDocument.Parse(GoldenRepository.ConfigJson(caseName));
        return Flux2Config.InitializeFromConfig(doc.RootElement, "bfloat16", [DeviceRef.Cpu()]);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/>, letting <paramref name="edit"/> rename,
    /// retype, reshape or drop (null) each tensor, and add tensors at the end.</summary>
    public static void Rewrite(string source, string target,
        Func<TensorView, (string Name, DType DType, long[] Shape, byte[] Data)?> edit,
        IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)>? add = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var file = SafeTensorsFile.Open(source);
        var w = new SafeTensorsWriter();
        foreach (var (k, v) in metadata ?? file.Metadata) w.Metadata[k] = v;
        foreach (var name in file.Names)
            if (edit(file.Get(name)) is { } t) w.Add(t.Name, t.DType, t.Shape, t.Data);
        foreach (var t in add ?? []) w.Add(t.Name, t.DType, t.Shape, t.Data);
        w.Write(target);
    }

    public static (string, DType, long[], byte[])? Keep(TensorView v) => (v.Name, v.DType, v.Shape, v.ToByteArray());

    /// <summary>A sparse single file or shard set with every tensor a real transformer requires, in its stored form.</summary>
    public static IReadOnlyList<(string Name, DType DType, long[] Shape)> RealShapes(Flux2Config config, TensorNaming naming, Func<string, LinearStorage> storageOf) =>
        TransformerRequirements.For(config, naming, storageOf).Select(r => (r.Name, r.DTypes[0], r.Shapes[0])).ToList();
}
