using System.Text;
using Flux2.Core.Checkpoints;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.Checkpoints;

public class CheckpointSourceTests
{
    private static void Weights(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var w = new SafeTensorsWriter();
        w.AddFloat32("x", [1], [1f]);
        w.Write(path);
    }

    private static void Text(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private const string KleinIndex =
        "{\"_class_name\":\"Flux2KleinPipeline\",\"_diffusers_version\":\"0.37.0\",\"is_distilled\":false," +
        "\"scheduler\":[\"diffusers\",\"FlowMatchEulerDiscreteScheduler\"],\"text_encoder\":[\"transformers\",\"Qwen3ForCausalLM\"]," +
        "\"tokenizer\":[\"transformers\",\"Qwen2TokenizerFast\"],\"transformer\":[\"diffusers\",\"Flux2Transformer2DModel\"]," +
        "\"vae\":[\"diffusers\",\"AutoencoderKLFlux2\"],\"safety_checker\":[null,null]}";

    private static void KleinRepository(string root)
    {
        Text(Path.Combine(root, "model_index.json"), KleinIndex);
        Text(Path.Combine(root, "transformer", "config.json"), "{}");
        Weights(Path.Combine(root, "transformer", "diffusion_pytorch_model-00001-of-00002.safetensors"));
        Text(Path.Combine(root, "transformer", "diffusion_pytorch_model.safetensors.index.json"), "{}");
        Text(Path.Combine(root, "vae", "config.json"), "{}");
        Weights(Path.Combine(root, "vae", "diffusion_pytorch_model.safetensors"));
        Text(Path.Combine(root, "text_encoder", "config.json"), "{}");
        Weights(Path.Combine(root, "text_encoder", "model.safetensors"));
        Text(Path.Combine(root, "tokenizer", "tokenizer.json"), "{}");
        Text(Path.Combine(root, "tokenizer", "tokenizer_config.json"), "{}");
        Text(Path.Combine(root, "scheduler", "scheduler_config.json"), "{}");
    }

    [Fact]
    public void DiffusersRepositoryListsEveryDeclaredComponent()
    {
        using var dir = new TempDirectory();
        KleinRepository(dir.Path);
        var s = CheckpointSource.Discover(dir.Path);
        Assert.Equal(CheckpointLayout.DiffusersRepository, s.Layout);
        Assert.Equal("Flux2KleinPipeline", s.ModelIndex!.ClassName);
        Assert.Equal("0.37.0", s.ModelIndex.DiffusersVersion);
        Assert.False(s.ModelIndex.IsDistilled);
        Assert.False(s.ModelIndex.Component("safety_checker")!.IsPresent);
        Assert.Equal(["scheduler", "text_encoder", "tokenizer", "transformer", "vae"], s.Components.Select(c => c.Name));

        var transformer = s.Component("transformer")!;
        Assert.True(transformer.IsSharded);
        Assert.Equal("diffusion_pytorch_model.safetensors.index.json", Path.GetFileName(transformer.WeightsPath));
        Assert.Equal("config.json", Path.GetFileName(transformer.ConfigPath));
        Assert.Equal("model.safetensors", Path.GetFileName(s.Component("text_encoder")!.WeightsPath));
        Assert.Equal("tokenizer_config.json", Path.GetFileName(s.Component("tokenizer")!.ConfigPath));
        Assert.Null(s.Component("tokenizer")!.WeightsPath);
        Assert.Contains("tokenizer.json", s.Component("tokenizer")!.FileNames);
        Assert.Equal("scheduler_config.json", Path.GetFileName(s.Component("scheduler")!.ConfigPath));

        // Pointing at model_index.json itself finds the same repository.
        var again = CheckpointSource.Discover(Path.Combine(dir.Path, "model_index.json"));
        Assert.Equal(CheckpointLayout.DiffusersRepository, again.Layout);
        Assert.Equal(5, again.Components.Count);
    }

    [Fact]
    public void MissingComponentFolderIsReportedNotThrown()
    {
        using var dir = new TempDirectory();
        KleinRepository(dir.Path);
        Directory.Delete(Path.Combine(dir.Path, "vae"), recursive: true);
        var vae = CheckpointSource.Discover(dir.Path).Component("vae")!;
        Assert.False(vae.DirectoryExists);
        Assert.Null(vae.WeightsPath);
    }

    [Fact]
    public void ComponentFolderAndItsConfigFile()
    {
        using var dir = new TempDirectory();
        var folder = Path.Combine(dir.Path, "transformer");
        Text(Path.Combine(folder, "config.json"), "{}");
        Weights(Path.Combine(folder, "diffusion_pytorch_model.safetensors"));
        foreach (var path in new[] { folder, Path.Combine(folder, "config.json"), folder + Path.DirectorySeparatorChar })
        {
            var s = CheckpointSource.Discover(path);
            Assert.Equal(CheckpointLayout.ComponentFolder, s.Layout);
            var c = Assert.Single(s.Components);
            Assert.Equal("transformer", c.Name);
            Assert.Equal("diffusion_pytorch_model.safetensors", Path.GetFileName(c.WeightsPath));
            Assert.False(c.IsSharded);
        }
    }

    [Fact]
    public void StandardWeightNamesWinOverOthers()
    {
        using var dir = new TempDirectory();
        Weights(dir.File("diffusion_pytorch_model.fp16.safetensors"));
        Weights(dir.File("diffusion_pytorch_model.safetensors"));
        Assert.Equal("diffusion_pytorch_model.safetensors", Path.GetFileName(CheckpointSource.Discover(dir.Path).Components[0].WeightsPath));
    }

    [Fact]
    public void ALoneNonStandardFileIsUsed()
    {
        using var dir = new TempDirectory();
        Weights(dir.File("flux2-dev.safetensors"));
        Assert.Equal("flux2-dev.safetensors", Path.GetFileName(CheckpointSource.Discover(dir.Path).Components[0].WeightsPath));
    }

    [Fact]
    public void SeveralNonStandardFilesAreAmbiguous()
    {
        using var dir = new TempDirectory();
        Weights(dir.File("flux2-dev.safetensors"));
        Weights(dir.File("ae.safetensors"));
        var e = Assert.Throws<CheckpointException>(() => CheckpointSource.Discover(dir.Path));
        Assert.Contains("ae.safetensors", e.Message);
        Assert.Contains("flux2-dev.safetensors", e.Message);
    }

    [Fact]
    public void SingleFileAndShardIndex()
    {
        using var dir = new TempDirectory();
        Weights(dir.File("flux-2-klein-4b.safetensors"));
        var single = CheckpointSource.Discover(dir.File("flux-2-klein-4b.safetensors"));
        Assert.Equal(CheckpointLayout.SingleFile, single.Layout);
        Assert.Equal("flux-2-klein-4b", single.Components[0].Name);
        Assert.Null(single.Components[0].ConfigPath);

        Text(dir.File("model.safetensors.index.json"), "{}");
        var index = CheckpointSource.Discover(dir.File("model.safetensors.index.json"));
        Assert.Equal(CheckpointLayout.ShardIndex, index.Layout);
        Assert.True(index.Components[0].IsSharded);
        Assert.Equal("model", index.Components[0].Name);
    }

    [Fact]
    public void PathsThatAreNotCheckpointsAreTypedErrors()
    {
        using var dir = new TempDirectory();
        Assert.Contains("no such file or directory", Assert.Throws<CheckpointException>(() => CheckpointSource.Discover(dir.File("absent"))).Message);
        Assert.Contains("not a checkpoint folder", Assert.Throws<CheckpointException>(() => CheckpointSource.Discover(dir.Path)).Message);
        Text(dir.File("notes.txt"), "x");
        var e = Assert.Throws<CheckpointException>(() => CheckpointSource.Discover(dir.File("notes.txt")));
        Assert.Contains("notes.txt", e.Message);
    }

    [Theory]
    [InlineData("{", "not valid JSON")]
    [InlineData("[]", "must be a JSON object")]
    [InlineData("{\"transformer\":[\"diffusers\",\"Flux2Transformer2DModel\"]}", "no '_class_name'")]
    [InlineData("{\"_class_name\":7}", "'_class_name' must be a string")]
    [InlineData("{\"_class_name\":\"Flux2Pipeline\",\"is_distilled\":\"yes\"}", "'is_distilled' must be true or false")]
    [InlineData("{\"_class_name\":\"Flux2Pipeline\",\"vae\":[\"diffusers\",3]}", "component 'vae' must be a [library, class] pair")]
    public void MalformedModelIndexIsATypedError(string json, string problem)
    {
        using var dir = new TempDirectory();
        Text(dir.File("model_index.json"), json);
        var e = Assert.Throws<CheckpointException>(() => CheckpointSource.Discover(dir.Path));
        Assert.Contains(problem, e.Message);
        Assert.Contains("model_index.json", e.Message);
    }

    [Fact]
    public void JsonWithAByteOrderMarkIsRead()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("model_index.json"), KleinIndex, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal([0xEF, 0xBB, 0xBF], File.ReadAllBytes(dir.File("model_index.json"))[..3]);
        Assert.Equal("Flux2KleinPipeline", CheckpointSource.Discover(dir.Path).ModelIndex!.ClassName);
    }
}
