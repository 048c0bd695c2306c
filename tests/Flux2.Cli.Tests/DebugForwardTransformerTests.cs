using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class DebugForwardTransformerTests
{
    [Theory]
    [InlineData("tiny_dev", "bfl")]
    [InlineData("tiny_klein", "diffusers")]
    [InlineData("head128", "diffusers")]
    public void WritesTheGoldenSample(string name, string naming)
    {
        using var dir = new TempDirectory();
        var output = dir.File("out.safetensors");
        var result = CliTestHost.Run("debug", "forward", "transformer", "--weights", Fixtures.Golden($"{name}.{naming}.safetensors"),
            "--inputs", Fixtures.Golden(name + ".io.safetensors"), "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("transformer", result.Output);

        using var golden = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
        using var written = SafeTensorsFile.Open(output);
        FloatComparison.AssertClose(golden, written, "outputs.sample", 1e-4);
    }

    [Fact]
    public void MissingWeightsOptionIsAUsageError()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "transformer", "--inputs", Fixtures.Golden("tiny_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--weights", result.Error);
    }

    [Fact]
    public void WeightsOfAnotherModelAreOneLineErrors()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "transformer", "--weights", Fixtures.Golden("vae_small.bfl.safetensors"),
            "--inputs", Fixtures.Golden("tiny_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("not a FLUX.2 transformer", result.Error);
    }

    [Fact]
    public void InputsThatDoNotFitTheModelAreOneLineErrors()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "transformer", "--weights", Fixtures.Golden("head128.bfl.safetensors"),
            "--inputs", Fixtures.Golden("tiny_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("encoder_hidden_states", result.Error);
    }
}
