using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class DebugCompareTests
{
    [Fact]
    public void ReportsErrorsOfSharedTensorsAndNamesInOneFileOnly()
    {
        using var dir = new TempDirectory();
        var a = Write(dir.File("a.safetensors"), ("x", [2, 2], [1f, 2f, 3f, 4f]), ("only_a", [1], [0f]));
        var b = Write(dir.File("b.safetensors"), ("x", [2, 2], [1f, 2f, 3f, 5f]), ("only_b", [1], [0f]));
        var result = CliTestHost.Run("debug", "compare", a, b);
        Assert.Equal(0, result.ExitCode);
        var line = result.Output.Split('\n').Single(l => l.StartsWith("x ", StringComparison.Ordinal));
        Assert.Contains("[2, 2]", line);
        Assert.Contains(" 1 ", line + " ");   // max abs |4 - 5|
        Assert.Contains("0.2", line);         // max rel 1/5
        Assert.Contains("only in " + a + ": only_a", result.Output);
        Assert.Contains("only in " + b + ": only_b", result.Output);
    }

    [Fact]
    public void IdenticalGoldenFileHasZeroError()
    {
        var io = Fixtures.Golden("tiny_klein.io.safetensors");
        var result = CliTestHost.Run("debug", "compare", io, io);
        Assert.Equal(0, result.ExitCode);
        var line = result.Output.Split('\n').Single(l => l.StartsWith("outputs.sample ", StringComparison.Ordinal));
        Assert.EndsWith("0            0", line.TrimEnd());
    }

    [Theory]
    [InlineData("nvfp4_dev.bfl.safetensors")]
    [InlineData("fp8_klein.bfl.safetensors")]
    [InlineData("quant_codec.safetensors")]
    public void QuantizedFilesCompareElementValues(string file)
    {
        var path = Fixtures.Golden(file);
        var result = CliTestHost.Run("debug", "compare", path, path);
        Assert.Equal(0, result.ExitCode);
        Assert.Empty(result.Error);
        var scaleLine = result.Output.Split('\n').First(l => l.Contains(".weight_scale ", StringComparison.Ordinal));
        Assert.EndsWith("0            0", scaleLine.TrimEnd());
    }

    [Fact]
    public void DifferentShapesFail()
    {
        using var dir = new TempDirectory();
        var a = Write(dir.File("a.safetensors"), ("x", [4], [1f, 2f, 3f, 4f]));
        var b = Write(dir.File("b.safetensors"), ("x", [2, 2], [1f, 2f, 3f, 4f]));
        var result = CliTestHost.Run("debug", "compare", a, b);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("shapes differ", result.Output);
    }

    [Fact]
    public void NeedsTwoFiles()
    {
        Assert.Equal(2, CliTestHost.Run("debug", "compare", "a.safetensors").ExitCode);
        var missing = CliTestHost.Run("debug", "compare", "/nonexistent/a.safetensors", "/nonexistent/b.safetensors");
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("/nonexistent/a.safetensors", missing.Error);
    }

    private static string Write(string path, params (string Name, long[] Shape, float[] Values)[] tensors)
    {
        var writer = new SafeTensorsWriter();
        foreach (var (name, shape, values) in tensors) writer.Add(name, DType.Float32, shape, (ReadOnlySpan<float>)values);
        writer.Write(path);
        return path;
    }
}
