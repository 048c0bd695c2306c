using Flux2.Core.SafeTensors;
using Flux2.Pipelines.Images;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 generate --lora FILE[:SCALE] [--lora-lenient]</c> on the tiny distilled klein folder.</summary>
public sealed class GenerateLoraOptionsTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    private CliResult Generate(params string[] args) =>
        CliTestHost.Run(["generate", "-m", model.Folder, "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "5", .. args]);

    /// <summary>A kohya LoRA on tiny_klein's single block 0 fused projection ([1152, 128]); with <paramref name="foreign"/>, also
    /// a tensor of a text-encoder LoRA.</summary>
    private static string WriteLora(TempDirectory dir, string name, bool foreign = false)
    {
        var random = new Random(7);
        float[] Values(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var w = new SafeTensorsWriter();
        w.AddFloat32("lora_unet_single_blocks_0_linear1.lora_down.weight", [4, 128], Values(4 * 128));
        w.AddFloat32("lora_unet_single_blocks_0_linear1.lora_up.weight", [1152, 4], Values(1152 * 4));
        w.AddFloat32("lora_unet_single_blocks_0_linear1.alpha", [], [8f]);
        if (foreign) w.AddFloat32("lora_te1_text_model_encoder_layers_0_mlp_fc1.alpha", [], [4f]);
        var path = dir.File(name);
        w.Write(path);
        return path;
    }

    [Fact]
    public void ALoraChangesTheImageAndIsRecordedInTheMetadata()
    {
        using var dir = new TempDirectory();
        var lora = WriteLora(dir, "style.safetensors");
        var plain = Generate("-o", dir.File("plain.png"));
        Assert.True(plain.ExitCode == 0, plain.Error);
        var off = Generate("--lora", lora + ":0", "-o", dir.File("off.png"));
        Assert.True(off.ExitCode == 0, off.Error);
        var on = Generate("--lora", lora + ":0.75", "--lora", lora, "-o", dir.File("on.png"));
        Assert.True(on.ExitCode == 0, on.Error);

        Assert.Equal(ImageFileReader.Read(dir.File("plain.png")).Pixels, ImageFileReader.Read(dir.File("off.png")).Pixels);
        Assert.NotEqual(ImageFileReader.Read(dir.File("plain.png")).Pixels, ImageFileReader.Read(dir.File("on.png")).Pixels);
        Assert.Equal("style.safetensors:0.75, style.safetensors:1", TestImages.PngText(File.ReadAllBytes(dir.File("on.png")))["loras"]);
        Assert.False(TestImages.PngText(File.ReadAllBytes(dir.File("plain.png"))).ContainsKey("loras"));
    }

    [Fact]
    public void TensorsThatAdaptNoLayerFailInOneLineUnlessLenient()
    {
        using var dir = new TempDirectory();
        var lora = WriteLora(dir, "mixed.safetensors", foreign: true);
        var strict = Generate("--lora", lora, "-o", dir.File("a.png"));
        Assert.Equal(1, strict.ExitCode);
        var line = Assert.Single(strict.ErrorLines);
        Assert.StartsWith($"flux2 generate: error: {lora}: 1 tensor adapts no layer of this transformer: 'lora_te1_text_model_encoder_layers_0_mlp_fc1.alpha'", line);
        Assert.False(File.Exists(dir.File("a.png")));

        var lenient = Generate("--lora", lora + ":0.5", "--lora-lenient", "-o", dir.File("a.png"));
        Assert.True(lenient.ExitCode == 0, lenient.Error);
        Assert.Contains(lenient.ErrorLines, l => l.StartsWith($"flux2 generate: warning: {lora}: skipped 1 tensor", StringComparison.Ordinal));
        Assert.Equal("mixed.safetensors:0.5", TestImages.PngText(File.ReadAllBytes(dir.File("a.png")))["loras"]);
    }

    [Fact]
    public void BadLoraOptionsAreOneLine()
    {
        using var dir = new TempDirectory();
        var lora = WriteLora(dir, "style.safetensors");
        var missing = dir.File("missing.safetensors");
        foreach (var (args, code, mentioned) in new (string[], int, string)[]
                 {
                     (["--lora", lora + ":strong"], 2, "option --lora: 'strong' after the file"),
                     (["--lora", lora + ":1e99"], 2, "option --lora: scale '1e99' is not a finite number"),
                     (["--lora-lenient"], 2, "option --lora-lenient needs a --lora"),
                     (["--lora", missing], 1, missing),
                 })
        {
            var result = Generate([.. args, "-o", dir.File("a.png")]);
            Assert.Equal(code, result.ExitCode);
            Assert.Contains(mentioned, Assert.Single(result.ErrorLines));
            Assert.False(File.Exists(dir.File("a.png")));
        }
    }

    [Fact]
    public void HelpDocumentsTheLoraOptions()
    {
        var help = CliTestHost.Run("generate", "--help");
        Assert.Contains("--lora FILE[:SCALE]", help.Output);
        Assert.Contains("--lora-lenient", help.Output);
    }
}
