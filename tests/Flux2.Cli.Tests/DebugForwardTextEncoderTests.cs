using System.Text.Json.Nodes;
using Flux2.Core.SafeTensors;
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

    [Fact]
    public void WritesTheGoldenHiddenStatesAndPromptEmbeds()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out.safetensors");
        var result = CliTestHost.Run("debug", "forward", "text-encoder", "--weights", Fixtures.Golden("te_mistral_dev.safetensors"),
            "--config", WriteConfig(dir, "te_mistral_dev"), "--inputs", Fixtures.Golden("te_mistral_dev.io.safetensors"), "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);

        using var expected = SafeTensorsFile.Open(Fixtures.Golden("te_mistral_dev.io.safetensors"));
        using var actual = SafeTensorsFile.Open(output);
        foreach (var name in new[] { "outputs.prompt_embeds", "outputs.hidden_states.0", "outputs.hidden_states.1",
                     "outputs.hidden_states.10", "outputs.hidden_states.20", "outputs.hidden_states.30" })
            FloatComparison.AssertClose(expected, actual, name, 1e-3, 1e-4);
        Assert.False(actual.Contains("outputs.hidden_states.32"));
    }

    /// <summary>Qwen3 (klein): q/k norms, right padding; the stacked layers are 9/18/27 of 30.</summary>
    [Fact]
    public void WritesTheGoldenQwen3HiddenStatesAndPromptEmbeds()
    {
        using var dir = new TempDirectory();
        var output = dir.File("out.safetensors");
        var result = CliTestHost.Run("debug", "forward", "text-encoder", "--weights", Fixtures.Golden("te_qwen3_klein.safetensors"),
            "--config", WriteConfig(dir, "te_qwen3_klein"), "--inputs", Fixtures.Golden("te_qwen3_klein.io.safetensors"), "--output", output);
        Assert.True(result.ExitCode == 0, result.Error);

        using var expected = SafeTensorsFile.Open(Fixtures.Golden("te_qwen3_klein.io.safetensors"));
        using var actual = SafeTensorsFile.Open(output);
        foreach (var name in new[] { "outputs.prompt_embeds", "outputs.hidden_states.0", "outputs.hidden_states.1",
                     "outputs.hidden_states.9", "outputs.hidden_states.18", "outputs.hidden_states.27" })
            FloatComparison.AssertClose(expected, actual, name, 1e-3, 1e-4);
        // The encoder stops after the last stacked layer: the final norm's hidden state is never computed.
        Assert.False(actual.Contains("outputs.hidden_states.30"));
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
    public void AWeightsFileWithoutConfigIsAOneLineError()
    {
        using var dir = new TempDirectory();
        var result = CliTestHost.Run("debug", "forward", "text-encoder", "--weights", Fixtures.Golden("te_mistral_dev.safetensors"),
            "--inputs", Fixtures.Golden("te_mistral_dev.io.safetensors"), "--output", dir.File("o.safetensors"));
        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.ErrorLines);
        Assert.Contains("no config.json beside the weights", result.Error);
    }
}
