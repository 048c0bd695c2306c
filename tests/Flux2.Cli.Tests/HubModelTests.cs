using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary><c>flux2 download</c>, and generate and info given a Hugging Face model id, against a Hub served in-process on
/// loopback (the tiny klein folder published as black-forest-labs/FLUX.2-klein-4B) with a temporary cache.</summary>
public sealed class HubModelTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>, IAsyncLifetime
{
    private const string Repo = "black-forest-labs/FLUX.2-klein-4B";
    private FakeHub _hub = null!;
    private readonly TempDirectory _dir = new();
    private string _commit = null!;

    private string Cache => _dir.File("hub");

    public async Task InitializeAsync()
    {
        _hub = await FakeHub.StartAsync();
        _commit = _hub.AddCommit(Repo, FakeHub.FilesOf(model.Folder));
    }

    public async Task DisposeAsync()
    {
        await _hub.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public void GenerateWithoutAModelDownloadsTheDefaultOnceAndNamesItInTheImage()
    {
        var png = _dir.File("fox.png");
        var first = CliTestHost.RunWithHub(_hub.Settings(Cache), "generate", "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "1", "-o", png);
        Assert.True(first.ExitCode == 0, first.Error);
        Assert.Contains("downloading transformer/diffusion_pytorch_model.safetensors", first.Error);
        Assert.Contains("downloaded text_encoder/model.safetensors", first.Error);
        Assert.Equal("FLUX.2-klein-4B (klein (distilled))", TestImages.PngText(File.ReadAllBytes(png))["model"]);

        // The second run finds everything in the cache, offline too.
        var again = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "generate", "-p", "a red fox", "-W", "32", "-H", "32", "--seed", "1",
            "-o", png, "--force");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.DoesNotContain("downloading", again.Error);
    }

    [Fact]
    public void DownloadPrintsTheSnapshotAndInfoReadsIt()
    {
        var download = CliTestHost.RunWithHub(_hub.Settings(Cache), "download", Repo);
        Assert.True(download.ExitCode == 0, download.Error);
        var folder = Path.Combine(Cache, "models--black-forest-labs--FLUX.2-klein-4B", "snapshots", _commit);
        Assert.Equal([$"{Repo}: commit {_commit}, {FakeHub.FilesOf(model.Folder).Count} files downloaded", folder],
            download.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));

        var again = CliTestHost.RunWithHub(_hub.Settings(Cache), "download", $"{Repo}@{_commit}");
        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Contains("0 files downloaded", again.Output);
        Assert.Equal("", again.Error);

        var info = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "info", Repo);
        Assert.True(info.ExitCode == 0, info.Error);
        Assert.Contains($"path:                    {folder}", info.Output);
        Assert.Contains("status:                  complete", info.Output);
    }

    [Fact]
    public void AGatedModelWithoutATokenIsOneLineNamingHfToken()
    {
        _hub.AddCommit("black-forest-labs/FLUX.2-dev", FakeHub.FilesOf(model.Folder), gated: true);
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), "generate", "-m", "black-forest-labs/FLUX.2-dev", "-p", "x", "-o", _dir.File("x.png"));
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith("flux2 generate: error: model_index.json of black-forest-labs/FLUX.2-dev cannot be downloaded (HTTP 401", line);
        Assert.Contains("set HF_TOKEN", line);
        Assert.False(File.Exists(_dir.File("x.png")));
    }

    [Fact]
    public void OfflineWithoutTheModelCachedIsOneLine()
    {
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache, offline: true), "generate", "-p", "x", "-o", _dir.File("x.png"));
        Assert.Equal(CliApp.ExitFailure, r.ExitCode);
        var line = Assert.Single(r.ErrorLines);
        Assert.StartsWith($"flux2 generate: error: HF_HUB_OFFLINE is set, and {Repo} is not in the Hugging Face cache", line);
        Assert.Contains($"flux2 download {Repo}", line);
        Assert.Empty(_hub.Requests);
    }

    [Fact]
    public void AnExistingFolderIsAPathEvenWhenItLooksLikeAnId()
    {
        // "org/name" relative to the working directory is a local folder when there is one: no Hub request.
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, model.Folder);
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), "info", relative);
        Assert.True(r.ExitCode == 0, r.Error);
        Assert.Empty(_hub.Requests);
    }

    [Theory]
    [InlineData(new string[0], "missing REPO")]
    [InlineData(new[] { "./models/x" }, "is not a Hugging Face model id")]
    [InlineData(new[] { "a/b", "c/d" }, "unexpected argument 'c/d'")]
    public void DownloadCommandLineMistakesExitTwo(string[] args, string expected)
    {
        var r = CliTestHost.RunWithHub(_hub.Settings(Cache), ["download", .. args]);
        Assert.Equal(CliApp.ExitUsage, r.ExitCode);
        Assert.Contains(expected, Assert.Single(r.ErrorLines));
    }
}
