using System.Text.Json;
using System.Text.RegularExpressions;
using Flux2.Cli;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary><c>flux2 serve</c> in-process: it loads the model, listens on loopback and stops when told.</summary>
public sealed class ServeCommandTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    [Fact]
    public async Task ServesUntilStopped()
    {
        using var stop = new CancellationTokenSource();
        var output = new ServerLog();
        var error = new ServerLog();
        var run = Task.Run(() => new ServeCommand().Run(["-m", model.Folder, "--port", "0"], output, error, stop.Token));
        var listening = await output.WaitForAsync("listening on ", TimeSpan.FromSeconds(60));
        Assert.True(listening != null, string.Join('\n', error.Lines) + (run.IsFaulted ? run.Exception!.ToString() : ""));
        var address = Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value;
        Assert.NotEmpty(address);

        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        var health = JsonDocument.Parse(await client.GetStringAsync("health")).RootElement;
        Assert.Equal("klein (distilled)", health.GetProperty("variant").GetString());

        stop.Cancel();
        Assert.Equal(CliApp.ExitOk, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped", output.Lines);
    }

    [Fact]
    public void AnAddressThisMachineDoesNotHaveIsOneLineAndExitOne()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface: binding fails locally, nothing is sent.
        Assert.Equal(CliApp.ExitFailure, CliApp.Run(["serve", "-m", model.Folder, "--host", "192.0.2.1", "--port", "0"], output, error));
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.Contains("error"));
        Assert.StartsWith("flux2 serve: error: cannot listen on 192.0.2.1:0", line);
        Assert.DoesNotContain("   at ", error.ToString());
    }

    [Theory]
    [InlineData("--host", "example.org", "option --host")]
    [InlineData("--port", "70000", "option --port")]
    [InlineData("--cache", "sometimes", "option --cache")]
    public void BadOptionsAreUsageErrors(string option, string value, string expected)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(CliApp.ExitUsage, CliApp.Run(["serve", "-m", model.Folder, option, value], output, error));
        Assert.Contains(expected, error.ToString());
    }
}
