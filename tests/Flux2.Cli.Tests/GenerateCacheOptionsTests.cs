using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 generate --cache ...</c> on the tiny distilled klein folder.</summary>
public sealed class GenerateCacheOptionsTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    private CliResult Generate(params string[] args) => CliTestHost.Run(["generate", "-m", model.Folder, "-p", "a red fox", .. args]);

    [Fact]
    public void FirstBlockCacheReportsTheReusedStepsAndIsLabelledExperimentalForKlein()
    {
        using var dir = new TempDirectory();
        var result = Generate("-W", "32", "-H", "32", "--seed", "1", "--cache", "fbcache", "--cache-threshold", "1e30", "-o", dir.File("a.png"));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("flux2 generate: note: 3/4 steps reused the cache", result.ErrorLines);
        Assert.Contains(result.ErrorLines, l => l.Contains("experimental"));
        Assert.True(File.Exists(dir.File("a.png")));
    }

    [Fact]
    public void TaylorSeerRunsWithItsSettings()
    {
        using var dir = new TempDirectory();
        var result = Generate("-W", "32", "-H", "32", "--seed", "1", "--cache", "taylorseer", "--taylorseer-warmup", "1",
            "--taylorseer-interval", "2", "--taylorseer-order", "2", "-o", dir.File("a.png"));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains("flux2 generate: note: 2/4 steps reused the cache", result.ErrorLines); // steps 1 and 3 extrapolated
    }

    [Theory]
    [InlineData("--cache", "fast", "--cache")]
    [InlineData("--cache-threshold", "-0.5", "--cache-threshold")]
    [InlineData("--cache-threshold", "abc", "--cache-threshold")]
    [InlineData("--taylorseer-order", "3", "--taylorseer-order")]
    [InlineData("--taylorseer-interval", "0", "--taylorseer-interval")]
    [InlineData("--taylorseer-warmup", "0", "--taylorseer-warmup")]
    public void BadValuesAreOneLineAndExitTwo(string option, string value, string mentioned)
    {
        using var dir = new TempDirectory();
        string mode = option.StartsWith("--taylorseer", StringComparison.Ordinal) ? "taylorseer" : "fbcache";
        string[] args = option == "--cache" ? [option, value] : ["--cache", mode, option, value];
        var result = Generate([.. args, "-o", dir.File("a.png")]);
        Assert.Equal(2, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("flux2 generate: error: ", line);
        Assert.Contains(mentioned, line);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Theory]
    [InlineData("none", "--cache-threshold", "0.1")]
    [InlineData("fbcache", "--taylorseer-order", "2")]
    [InlineData("taylorseer", "--cache-threshold", "0.1")]
    public void ASettingOfAnotherCacheIsRejected(string mode, string option, string value)
    {
        using var dir = new TempDirectory();
        var result = Generate("--cache", mode, option, value, "-o", dir.File("a.png"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"option {option} applies only to --cache", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public void HelpDocumentsTheCacheOptions()
    {
        var help = CliTestHost.Run("generate", "--help").Output;
        foreach (var option in new[] { "--cache MODE", "fbcache", "taylorseer", "--cache-threshold", "--taylorseer-interval", "--taylorseer-warmup", "--taylorseer-order" })
            Assert.Contains(option, help);
    }
}
