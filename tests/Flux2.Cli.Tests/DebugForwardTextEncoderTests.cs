using System.Text.Json.Nodes;
using Flux2.Core.SafeTensors;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public sealed class DebugForwardTextEncoderTests
{
    private static string WriteConfig(TempDirectory dir, string goldenCase)
    {
        var root = JsonNode.Parse(File.ReadAllText(Fixtures.Golden(goldenCase + ".json")))!;
        var path = dir.File("config.json");
        File.WriteAllText(path, root["config.json"]!.ToJsonString());
        return path;
    }

    /// <summary>Mistral (dev): left padding, stacked layers 10/20/30 of 32. Qwen3 (klein): q/k norms, right padding,
    /// stacked layers 9/18/27 of 30. The encoder stops after the last stacked layer, so the final norm's hidden state
    /// (index = layer count) is never computed.</summary>
    public static IEnumerable<object[]> Cases =>
        from c in new[] { ("te_mistral_dev", new[] { 10, 20, 30 }, 32), ("te_qwen3_klein", new[] { 9, 18, 27 }, 30) }
        from backend in TestBackends.Names
        select new object[] { c.Item1, c.Item2, c.Item3, backend };

    [Theory]
    [MemberData(nameof(Cases))]
    public void WritesTheGoldenHiddenStatesAndPromptEmbeds(string goldenCase, int[] stacked, int layerCount, string backend)
    {
        using var dir = new TempDirectory();
        var output = dir.File("out.safetensors");
        var io = Fixtures.Golden(goldenCase + ".io.safetensors");
        var result = CliTestHost.RunOn(backend, "debug", "forward", "text-encoder", "--weights", Fixtures.Golden(goldenCase + ".safetensors"),
            "--config", WriteConfig(dir, goldenCase), "--inputs", io, "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);

        using var expected = SafeTensorsFile.Open(io);
        using var actual = SafeTensorsFile.Open(output);
        var names = new[] { "outputs.prompt_embeds", "outputs.hidden_states.0", "outputs.hidden_states.1" }
            .Concat(stacked.Select(k => "outputs.hidden_states." + k));
        foreach (var name in names) FloatComparison.AssertClose(expected, actual, name, 1e-3, 1e-4);
        Assert.False(actual.Contains("outputs.hidden_states." + layerCount));
    }

    [Fact]
    public void RejectsAnUnknownFullyMaskedRowsMode()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "text-encoder", "--weights", Fixtures.Golden("te_mistral_dev.safetensors"),
            "--fully-masked-rows", "nan", "--inputs", Fixtures.Golden("te_mistral_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--fully-masked-rows: 'nan' is not one of zero, uniform", result.Error);
    }

    [Fact]
    public void AWeightsFileWhoseConfigCannotBeInferredIsAOneLineError()
    {
        // Without config.json the configuration comes from the shapes; the tiny Mistral's 32-wide heads cannot be told.
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "text-encoder", "--weights", Fixtures.Golden("te_mistral_dev.safetensors"),
            "--inputs", Fixtures.Golden("te_mistral_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("not whole heads of 128; give the encoder's config.json", result.Error);
    }
}
