using System.Text.Json;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

public class DebugTokenizeCommandTests
{
    private static readonly string Qwen = Fixtures.File("tokenizers", "qwen3");

    private static JsonElement GoldenEntry(int index)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Fixtures.Golden("tokenizer_qwen3.json")));
        return doc.RootElement.GetProperty("entries")[index].Clone();
    }

    private static long[] Longs(JsonElement parent, string name) =>
        parent.GetProperty(name).EnumerateArray().Select(e => e.GetInt64()).ToArray();

    [Fact]
    public void KleinTemplatePrintsThePipelineInput()
    {
        var result = CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen, "--template", "klein", "--prompt", "a cat");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        var golden = GoldenEntry(1);
        Assert.Equal(Longs(golden, "input_ids"), Longs(json.RootElement, "input_ids"));
        Assert.Equal(Longs(golden, "attention_mask"), Longs(json.RootElement, "attention_mask"));
    }

    [Fact]
    public void WithoutATemplateItPrintsTheRawIds()
    {
        var result = CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen, "--prompt", "a cat");
        Assert.Equal(0, result.ExitCode);
        using var json = JsonDocument.Parse(result.Output);
        Assert.Equal(Longs(GoldenEntry(1), "raw_ids"), Longs(json.RootElement, "input_ids"));
        Assert.Equal([1L, 1L], Longs(json.RootElement, "attention_mask"));
    }

    [Fact]
    public void OverLongPromptsWarnOrFailInStrictMode()
    {
        var warned = CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen, "--template", "klein", "--max-length", "8", "--prompt", "a cat");
        Assert.Equal(0, warned.ExitCode);
        Assert.Contains("warning", warned.Error);
        using (var json = JsonDocument.Parse(warned.Output)) Assert.Equal(8, json.RootElement.GetProperty("input_ids").GetArrayLength());

        var strict = CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen, "--template", "klein", "--max-length", "8", "--strict", "--prompt", "a cat");
        Assert.Equal(CliApp.ExitFailure, strict.ExitCode);
        Assert.Contains("14 tokens", Assert.Single(strict.ErrorLines));
    }

    [Fact]
    public void BadOptionsAndMissingFoldersAreReported()
    {
        Assert.Equal(CliApp.ExitUsage, CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen, "--template", "sdxl", "--prompt", "x").ExitCode);
        Assert.Equal(CliApp.ExitUsage, CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen, "--strict", "--prompt", "x").ExitCode);
        Assert.Equal(CliApp.ExitUsage, CliTestHost.Run("debug", "tokenize", "--tokenizer", Qwen).ExitCode);
        var missing = CliTestHost.Run("debug", "tokenize", "--tokenizer", Path.Combine(Qwen, "nope"), "--prompt", "x");
        Assert.Equal(CliApp.ExitFailure, missing.ExitCode);
        Assert.Contains("nope", Assert.Single(missing.ErrorLines));
    }
}
