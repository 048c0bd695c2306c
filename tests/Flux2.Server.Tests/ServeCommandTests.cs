using System.Text.Json;
using System.Text.RegularExpressions;
using Flux2.Cli;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Server.Tests;

/// <summary><c>flux2 serve</c> in-process: it loads the model, listens on loopback and stops when told.</summary>
public sealed class ServeCommandTests(TinyKleinModel model) : IClassFixture<TinyKleinModel>
{
    [Fact]
    public async Task ServesUntilStopped()
    {
        var health = await ServeAndAskHealth(new ServeCommand(), ["-m", model.Folder, "--port", "0"]);
        Assert.Equal("klein (distilled)", health.GetProperty("variant").GetString());
        Assert.False(health.TryGetProperty("text_encoder_device", out _)); // everything on one device
    }

    /// <summary>The transformer and the VAE on the opaque backend's simulated GPU, the text encoder on the CPU: /health names both.</summary>
    [Fact]
    public async Task HealthNamesTheTextEncodersOwnDevice()
    {
        var health = await ServeAndAskHealth(new ServeCommand(_ => TestBackends.TwoDevices()),
            ["-m", model.Folder, "--port", "0", "--device", "cuda:7", "--text-encoder-device", "cpu"]);
        Assert.StartsWith("opaque", health.GetProperty("device").GetString());
        Assert.StartsWith("cpu", health.GetProperty("text_encoder_device").GetString());
    }

    /// <summary>Runs <paramref name="serve"/> until it listens, reads /health, stops it and checks it stopped cleanly.</summary>
    private static async Task<JsonElement> ServeAndAskHealth(ServeCommand serve, string[] args)
    {
        using var stop = new CancellationTokenSource();
        var output = new ServerLog();
        var error = new ServerLog();
        var run = Task.Run(() => serve.Run(args, output, error, stop.Token));
        var listening = await output.WaitForAsync("listening on ", TimeSpan.FromSeconds(60));
        Assert.True(listening != null, string.Join('\n', error.Lines) + (run.IsFaulted ? run.Exception!.ToString() : ""));
        var address = Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value;
        Assert.NotEmpty(address);

        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        var health = JsonDocument.Parse(await client.GetStringAsync("health")).RootElement.Clone();

        stop.Cancel();
        Assert.Equal(CliApp.ExitOk, await run.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("stopped", output.Lines);
        return health;
    }

    [Fact]
    public void AnAddressThisMachineDoesNotHaveIsOneLineAndExitOne()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no interface: binding fails locally, nothing is sent.
        Assert.Equal(CliApp.ExitFailure, CliApp.Run(["serve", "-m", model.Folder, "--host", "192.0.2.1", "--port", "0", "--api-key", "k"], output, error));
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var line = Assert.Single(lines, l => l.Contains("error"));
        Assert.StartsWith("flux2 serve: error: cannot listen on 192.0.2.1:0", line);
        Assert.DoesNotContain("   at ", error.ToString());
    }

    [Fact]
    public void ListeningBeyondLoopbackWithoutAKeyIsRefusedBeforeTheModelLoads()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        // The model folder does not exist: the refusal comes first, without the minutes a model takes to load.
        Assert.Equal(CliApp.ExitFailure, CliApp.Run(["serve", "-m", "/nonexistent/model", "--host", "0.0.0.0"], output, error));
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal("flux2 serve: error: listening on 0.0.0.0 (not loopback) needs an API key (--api-key or FLUX2_API_KEY), " +
            "or --insecure-no-auth to serve without one on a trusted network", line);
    }

    [Theory]
    [InlineData("--api-key", "k")]
    [InlineData("--insecure-no-auth", null)]
    [InlineData(null, null)] // FLUX2_API_KEY
    public void AKeyOrInsecureNoAuthLetsItListenBeyondLoopback(string? option, string? value)
    {
        var error = new StringWriter();
        string[] given = option == null ? [] : value == null ? [option] : [option, value];
        string[] args = ["-m", model.Folder, "--host", "192.0.2.1", "--port", "0", .. given];
        var serve = new ServeCommand(environment: name => name == ServeCommand.ApiKeyVariable ? "from-the-environment" : null);
        // 192.0.2.1 (TEST-NET-1) is on no interface: getting as far as binding shows the start check passed.
        var e = Assert.Throws<ServerStartException>(() => serve.Run(args, new StringWriter(), error));
        Assert.StartsWith("cannot listen on 192.0.2.1:0", e.Message);
    }

    [Fact]
    public async Task TheKeyFromTheEnvironmentIsRequired()
    {
        using var stop = new CancellationTokenSource();
        var output = new ServerLog();
        var serve = new ServeCommand(environment: name => name == ServeCommand.ApiKeyVariable ? "env-key" : null);
        var run = Task.Run(() => serve.Run(["-m", model.Folder, "--port", "0"], output, new ServerLog(), stop.Token));
        var listening = await output.WaitForAsync("listening on ", TimeSpan.FromSeconds(60));
        Assert.NotNull(listening);
        using var client = new HttpClient { BaseAddress = new Uri(Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value), Timeout = TimeSpan.FromSeconds(30) };
        using (var refused = await client.GetAsync("v1/models"))
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "env-key");
        using (var accepted = await client.GetAsync("v1/models"))
            Assert.Equal(System.Net.HttpStatusCode.OK, accepted.StatusCode);
        stop.Cancel();
        Assert.Equal(CliApp.ExitOk, await run.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Theory]
    [InlineData("--cors-origin", "app.example", 1, "CORS origin 'app.example' is not an origin")]
    [InlineData("--api-key", "", 1, "the API key must not be empty")]
    [InlineData("--request-timeout", "0", 2, "option --request-timeout: 0 is outside")]
    [InlineData("--body-timeout", "-5", 2, "option --body-timeout: -5 is outside")]
    [InlineData("--lora-dir", "/nonexistent/loras", 1, "LoRA folder /nonexistent/loras: not found (or not a folder)")]
    public void BadServerOptionsAreOneLine(string option, string value, int exit, string expected)
    {
        var error = new StringWriter();
        Assert.Equal(exit, CliApp.Run(["serve", "-m", "/nonexistent/model", option, value], new StringWriter(), error));
        Assert.Contains(expected, Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }

    [Fact]
    public void LoraLenientNeedsLorasFromAFileOrTheFolder()
    {
        var error = new StringWriter();
        Assert.Equal(CliApp.ExitUsage, CliApp.Run(["serve", "-m", "/nonexistent/model", "--lora-lenient"], new StringWriter(), error));
        Assert.Contains("option --lora-lenient needs a --lora or a --lora-dir", error.ToString());

        using var loras = new TempDirectory();
        error = new StringWriter();
        // Accepted with a LoRA folder: what fails then is the model that is not there.
        Assert.Equal(CliApp.ExitFailure, CliApp.Run(["serve", "-m", "/nonexistent/model", "--lora-lenient", "--lora-dir", loras.Path], new StringWriter(), error));
        Assert.Contains("/nonexistent/model", error.ToString());
    }

    [Theory]
    [InlineData("--host", "example.org", "option --host")]
    [InlineData("--port", "70000", "option --port")]
    [InlineData("--cache", "sometimes", "option --cache")]
    [InlineData("--batch", "0", "option --batch: 0 is outside [1, 64]")]
    [InlineData("--image-decodes", "0", "option --image-decodes: 0 is outside [1, 64]")]
    public void BadOptionsAreUsageErrors(string option, string value, string expected)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(CliApp.ExitUsage, CliApp.Run(["serve", "-m", model.Folder, option, value], output, error));
        Assert.Contains(expected, error.ToString());
    }
}
