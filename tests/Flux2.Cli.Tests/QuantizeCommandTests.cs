using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class QuantizeCommandTests
{
    private static readonly string TinyDev = Fixtures.Golden("tiny_dev.bfl.safetensors");

    [Fact]
    public void WritesAnNvfp4CheckpointTheLoaderReads()
    {
        using var dir = new TempDirectory();
        var r = CliTestHost.Run("quantize", "--format", "nvfp4", TinyDev, dir.File("q.safetensors"));
        Assert.Equal(CliApp.ExitOk, r.ExitCode);
        Assert.Contains("16 Linears as NVFP4", r.Output);
        using var c = SafeTensorsCheckpoint.Open(dir.File("q.safetensors"));
        Assert.Equal(WeightFormat.Nvfp4, LinearWeightLoader.Load(c, "single_blocks.1.linear1.weight").Format);
        Assert.Equal(16, QuantizationMetadata.ReadNvfp4Layers(c).Count);
    }

    [Fact]
    public void RefusesToOverwriteWithoutForce()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("q.safetensors"), "keep me");
        var r = CliTestHost.Run("quantize", "--format", "fp8", TinyDev, dir.File("q.safetensors"));
        Assert.Equal(CliApp.ExitUsage, r.ExitCode);
        Assert.Contains("--force", r.Error);
        Assert.Equal("keep me", File.ReadAllText(dir.File("q.safetensors")));

        r = CliTestHost.Run("quantize", "--format", "fp8", "--force", TinyDev, dir.File("q.safetensors"));
        Assert.Equal(CliApp.ExitOk, r.ExitCode);
        using var c = SafeTensorsCheckpoint.Open(dir.File("q.safetensors"));
        Assert.Equal(WeightFormat.Fp8E4M3, LinearWeightLoader.Load(c, "double_blocks.0.txt_attn.qkv.weight").Format);
    }

    [Theory]
    [InlineData("--format", "int4")]
    [InlineData("--format", "nvfp4", "--bits", "4")]
    [InlineData("--format", "nvfp4", "missing.safetensors")]
    public void CommandLineMistakesExitWithUsage(params string[] args)
    {
        using var dir = new TempDirectory();
        var r = CliTestHost.Run(["quantize", .. args, .. args.Contains("missing.safetensors") ? [dir.File("out.safetensors")] : new[] { TinyDev, dir.File("out.safetensors") }]);
        Assert.Equal(CliApp.ExitUsage, r.ExitCode);
        Assert.Single(r.ErrorLines);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void BadInputIsOneLineAndLeavesNoFile()
    {
        using var dir = new TempDirectory();
        var r = CliTestHost.Run("quantize", "--format", "nvfp4", Fixtures.Golden("nvfp4_dev.bfl.safetensors"), dir.File("q.safetensors"));
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith("flux2 quantize: error:", line);
        Assert.Contains("nvfp4_dev.bfl.safetensors", line);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));

        r = CliTestHost.Run("quantize", "--format", "fp8", Fixtures.Golden("vae_small.bfl.safetensors"), dir.File("q.safetensors"));
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        Assert.Contains("not a FLUX.2 transformer", Assert.Single(r.ErrorLines));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }
}
