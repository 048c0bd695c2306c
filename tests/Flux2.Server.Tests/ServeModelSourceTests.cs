using System.Text.Json;
using System.Text.RegularExpressions;
using Flux2.Cli;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary><c>flux2 serve</c> from the model sources other than a folder: a Hugging Face model id (from a Hub served
/// in-process on loopback into a temporary cache), and component files.</summary>
public sealed class ServeModelSourceTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    /// <summary>Runs <paramref name="serve"/> with <paramref name="args"/> until it listens, asks /v1/models for the served
    /// model's name, stops it and returns the name and what it wrote to stderr.</summary>
    private static async Task<(string Model, IReadOnlyList<string> Log)> ServedModelAsync(ServeCommand serve, params string[] args)
    {
        using var stop = new CancellationTokenSource();
        var output = new ServerLog();
        var error = new ServerLog();
        var run = Task.Run(() => serve.Run([.. args, "--port", "0"], output, error, stop.Token));
        var listening = await output.WaitForAsync("listening on ", TimeSpan.FromSeconds(60));
        Assert.True(listening != null, string.Join('\n', error.Lines) + (run.IsFaulted ? run.Exception!.ToString() : ""));
        using var client = new HttpClient { BaseAddress = new Uri(Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value) };
        var models = JsonDocument.Parse(await client.GetStringAsync("v1/models")).RootElement;
        stop.Cancel();
        Assert.Equal(CliApp.ExitOk, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        return (models.GetProperty("data")[0].GetProperty("id").GetString()!, error.Lines);
    }

    [Fact]
    public async Task ServesAModelDownloadedFromTheHubUnderItsName()
    {
        await using var hub = await FakeHub.StartAsync();
        hub.AddCommit("black-forest-labs/FLUX.2-klein-4B", FakeHub.FilesOf(model.Folder));
        using var cache = new TempDirectory();
        var (name, log) = await ServedModelAsync(new ServeCommand(hub: new HubModels(() => hub.Settings(cache.Path))), "-m", "black-forest-labs/FLUX.2-klein-4B");
        Assert.Equal("FLUX.2-klein-4B", name);
        Assert.Contains(log, l => l.StartsWith("downloaded transformer/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServesComponentFiles()
    {
        using var dir = new TempDirectory();
        var (transformer, vae, textEncoder) = TinyModelFolders.KleinSingleFiles(model.Folder, dir.Path);
        var (name, _) = await ServedModelAsync(new ServeCommand(), "--transformer", transformer, "--vae", vae, "--text-encoder", textEncoder);
        Assert.Equal("flux-2-klein-4b.safetensors", name);
    }
}
