using System.Text.Json;
using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;
using Flux2.Tests;

namespace Flux2.Models.Tests.Transformer;

/// <summary>The checkpoint layouts and dtypes the transformer loads from, each giving the golden output.</summary>
public class Flux2TransformerLoadingTests
{
    [Fact]
    public void DiffusersFolderWithConfigJson()
    {
        using var dir = new TempDirectory();
        var folder = Directory.CreateDirectory(dir.File("transformer")).FullName;
        File.Copy(Fixtures.Golden("tiny_klein.diffusers.safetensors"), Path.Combine(folder, "diffusion_pytorch_model.safetensors"));
        File.WriteAllText(Path.Combine(folder, "config.json"), Flux2WeightMapTests.GoldenConfigJson("tiny_klein"));
        AssertGoldenOutput("tiny_klein", folder);
    }

    [Fact]
    public void ShardedDiffusersFolder()
    {
        using var dir = new TempDirectory();
        using var source = SafeTensorsFile.Open(Fixtures.Golden("tiny_dev.diffusers.safetensors"));
        var weightMap = new Dictionary<string, string>();
        var shards = new[] { new SafeTensorsWriter(), new SafeTensorsWriter() };
        for (int i = 0; i < source.Names.Count; i++)
        {
            var v = source.Get(source.Names[i]);
            string shard = $"diffusion_pytorch_model-0000{i % 2 + 1}-of-00002.safetensors";
            shards[i % 2].Add(v.Name, v.DType, v.Shape, v.AsSpan<byte>());
            weightMap[v.Name] = shard;
        }
        shards[0].Write(dir.File("diffusion_pytorch_model-00001-of-00002.safetensors"));
        shards[1].Write(dir.File("diffusion_pytorch_model-00002-of-00002.safetensors"));
        File.WriteAllText(dir.File("diffusion_pytorch_model.safetensors.index.json"),
            JsonSerializer.Serialize(new { metadata = new { total_size = 0 }, weight_map = weightMap }));
        AssertGoldenOutput("tiny_dev", dir.Path);
    }

    [Fact]
    public void PrefixedFloat32SingleFile()
    {
        using var dir = new TempDirectory();
        using var source = SafeTensorsFile.Open(Fixtures.Golden("head128.bfl.safetensors"));
        var writer = new SafeTensorsWriter();
        foreach (var name in source.Names)
        {
            var v = source.Get(name);
            writer.AddFloat32("model.diffusion_model." + name, v.Shape, v.ToFloat32Array());
        }
        writer.Write(dir.File("comfy.safetensors"));
        AssertGoldenOutput("head128", dir.File("comfy.safetensors"));
    }

    [Fact]
    public void MissingTensorIsReportedByName()
    {
        using var dir = new TempDirectory();
        using var source = SafeTensorsFile.Open(Fixtures.Golden("tiny_klein.bfl.safetensors"));
        var writer = new SafeTensorsWriter();
        foreach (var name in source.Names.Where(n => n != "double_blocks.1.txt_mlp.2.weight"))
        {
            var v = source.Get(name);
            writer.Add(name, v.DType, v.Shape, v.AsSpan<byte>());
        }
        writer.Write(dir.File("broken.safetensors"));
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2Transformer.Load(dir.File("broken.safetensors"), TransformerGolden.Cpu));
        Assert.Contains("double_blocks.1.txt_mlp.2.weight", e.Message);
    }

    [Fact]
    public void ConfigForAnotherModelIsRejected()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<Flux2ConfigException>(() => Flux2Transformer.Load(
            Fixtures.Golden("tiny_dev.bfl.safetensors"), TransformerGolden.Cpu, Flux2WeightMapTests.WriteGoldenConfig("head128", dir)));
        Assert.Contains("tiny_dev.bfl.safetensors", e.Message);
    }

    private static void AssertGoldenOutput(string name, string path)
    {
        using var golden = new TransformerGolden(name);
        using var model = Flux2Transformer.Load(path, TransformerGolden.Cpu);
        using var output = golden.Run(model);
        Assert.True(FloatComparison.MaxAbsDiff(golden.Expected("outputs.sample"), output.AsSpan<float>()) <= 1e-4f);
    }
}
