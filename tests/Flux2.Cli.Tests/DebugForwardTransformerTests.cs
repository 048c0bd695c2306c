using Flux2.Core.SafeTensors;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class DebugForwardTransformerTests
{
    /// <summary>Every golden transformer file in the layout a BFL or diffusers checkpoint has, with the case whose
    /// io file holds its inputs and reference sample (nvfp4_dev_nometa shares nvfp4_dev's).
    /// Each runs on the CPU backend and on the opaque test backend.</summary>
    public static IEnumerable<object[]> Checkpoints =>
        from c in new[]
        {
            ("tiny_dev.bfl.safetensors", "tiny_dev"), ("tiny_dev.diffusers.safetensors", "tiny_dev"),
            ("tiny_klein.bfl.safetensors", "tiny_klein"), ("tiny_klein.diffusers.safetensors", "tiny_klein"),
            ("head128.bfl.safetensors", "head128"), ("head128.diffusers.safetensors", "head128"),
            ("nvfp4_dev.bfl.safetensors", "nvfp4_dev"), ("nvfp4_dev_nometa.bfl.safetensors", "nvfp4_dev"),
            ("fp8_klein.bfl.safetensors", "fp8_klein"),
        }
        from backend in TestBackends.Names
        select new object[] { c.Item1, c.Item2, backend };

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void WritesTheGoldenSample(string weights, string io, string backend)
    {
        using var dir = new TempDirectory();
        var output = dir.File("out.safetensors");
        var result = CliTestHost.RunOn(backend, "debug", "forward", "transformer", "--weights", Fixtures.Golden(weights),
            "--inputs", Fixtures.Golden(io + ".io.safetensors"), "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("transformer", result.Output);

        using var golden = SafeTensorsFile.Open(Fixtures.Golden(io + ".io.safetensors"));
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
