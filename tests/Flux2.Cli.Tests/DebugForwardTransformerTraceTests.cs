using Flux2.Core.SafeTensors;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class DebugForwardTransformerTraceTests
{
    public static TheoryData<string> Backends => new(TestBackends.Names);

    [Theory]
    [MemberData(nameof(Backends))]
    public void TraceWritesEveryGoldenIntermediate(string backend)
    {
        using var dir = new TempDirectory();
        var output = dir.File("out.safetensors");
        var io = Fixtures.Golden("tiny_dev.io.safetensors");
        var result = CliTestHost.RunOn(backend, "debug", "forward", "transformer", "--weights", Fixtures.Golden("tiny_dev.diffusers.safetensors"),
            "--inputs", io, "--output", output, "--trace");
        Assert.True(result.ExitCode == 0, result.Error);

        using var golden = SafeTensorsFile.Open(io);
        using var written = SafeTensorsFile.Open(output);
        // The BFL cross-check traces (*_bfl) have no counterpart in a diffusers-named run.
        var traces = golden.Names.Where(n => n.StartsWith("trace.", StringComparison.Ordinal) && !n.EndsWith("_bfl", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(traces);
        foreach (var name in traces) FloatComparison.AssertClose(golden, written, name, 1e-4);
    }

    [Fact]
    public void TraceIsAFlagOfTheTransformerOnly()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "vae-decode", "--weights", Fixtures.Golden("vae_small.bfl.safetensors"),
            "--inputs", Fixtures.Golden("vae_small.io.safetensors"), "--output", dir.File("o.safetensors"), "--trace");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--trace", result.Error);
        Assert.False(File.Exists(dir.File("o.safetensors")));
    }
}
