using System.Text.Json;
using System.Text.RegularExpressions;
using Flux2.Cli;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary><c>flux2 serve -m org/name</c>: the model comes from a Hub served in-process on loopback into a temporary cache,
/// and is served under its repository name.</summary>
public sealed class ServeHubModelTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    [Fact]
    public async Task ServesAModelDownloadedFromTheHubUnderItsName()
    {
        await using var hub = await FakeHub.StartAsync();
        hub.AddCommit("black-forest-labs/FLUX.2-klein-4B", FakeHub.FilesOf(model.Folder));
        using var cache = new TempDirectory();
        using var stop = new CancellationTokenSource();
        var output = new ServerLog();
        var error = new ServerLog();
        var serve = new ServeCommand(hub: new HubModels(() => hub.Settings(cache.Path)));
        var run = Task.Run(() => serve.Run(["-m", "black-forest-labs/FLUX.2-klein-4B", "--port", "0"], output, error, stop.Token));
        var listening = await output.WaitForAsync("listening on ", TimeSpan.FromSeconds(60));
        Assert.True(listening != null, string.Join('\n', error.Lines) + (run.IsFaulted ? run.Exception!.ToString() : ""));
        Assert.Contains(error.Lines, l => l.StartsWith("downloaded transformer/", StringComparison.Ordinal));

        using var client = new HttpClient { BaseAddress = new Uri(Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value) };
        var models = JsonDocument.Parse(await client.GetStringAsync("v1/models")).RootElement;
        Assert.Equal("FLUX.2-klein-4B", models.GetProperty("data")[0].GetProperty("id").GetString());

        stop.Cancel();
        Assert.Equal(CliApp.ExitOk, await run.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
