using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Flux2.Tests;

namespace Flux2.Cli.Tests;

/// <summary>
/// Ctrl-C and SIGTERM sent to a real <c>flux2</c> process (on the tiny klein-base model, whose step count is free, so a job
/// lasts as long as a test needs): the first stops the work cleanly, a second Ctrl-C ends the process at once.
/// </summary>
public sealed class SignalTests(TinyKleinBaseModel model) : IClassFixture<TinyKleinBaseModel>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task SigtermStopsServeAnsweringOpenRequests503AndExitsZero()
    {
        using var flux2 = Flux2Process.Start("serve", "-m", model.Folder, "--port", "0");
        var listening = flux2.WaitForOutput(l => l.StartsWith("listening on ", StringComparison.Ordinal), Patience);
        using var client = new HttpClient { BaseAddress = new Uri(Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value), Timeout = Patience };
        // 10 000 steps would run for minutes.
        var slow = client.PostAsync("v1/responses", new StringContent(
            """{"input": "a slow one", "seed": 1, "provider_options": {"image": {"width": 16, "height": 16, "steps": 10000}}}""", Encoding.UTF8, "application/json"));
        flux2.WaitForError(l => l.Contains("generating"), Patience);
        var waiting = client.PostAsync("v1/responses", new StringContent(
            """{"input": "a waiting one", "seed": 2, "provider_options": {"image": {"width": 16, "height": 16, "steps": 2}}}""", Encoding.UTF8, "application/json"));
        await Task.Delay(300);

        flux2.Signal("TERM");
        foreach (var request in new[] { slow, waiting })
        {
            using var response = await request.WaitAsync(Patience);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
            Assert.Contains("shutting down", error.GetProperty("message").GetString());
        }
        Assert.Equal(0, flux2.WaitForExit(Patience));
        Assert.Contains("stopped", flux2.Output);
        Assert.Contains(flux2.Error, l => l.Contains("cancelled after step"));
    }

    [Fact]
    public void SigtermStopsGenerateAtTheNextStepWithoutAPartialFile()
    {
        using var dir = new TempDirectory();
        using var flux2 = Flux2Process.Start("generate", "-m", model.Folder, "-p", "x", "-W", "16", "-H", "16", "--steps", "10000", "-o", dir.File("out.png"));
        flux2.WaitForError(l => l.StartsWith("step ", StringComparison.Ordinal), Patience);
        flux2.Signal("TERM");
        Assert.Equal(1, flux2.WaitForExit(Patience));
        Assert.Contains("flux2 generate: cancelled; no image written", flux2.Error);
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    /// <summary>Two Ctrl-Cs in a row, as an impatient user sends them: whichever ends the process (the clean stop, which no
    /// longer waits for a step, or the second signal's default action), it ends at once, with no hang and no crash.</summary>
    [Fact]
    public async Task TwoCtrlCsEndTheProcessAtOnce()
    {
        using var flux2 = Flux2Process.Start("serve", "-m", model.Folder, "--port", "0");
        var listening = flux2.WaitForOutput(l => l.StartsWith("listening on ", StringComparison.Ordinal), Patience);
        using var client = new HttpClient { BaseAddress = new Uri(Regex.Match(listening, @"http://127\.0\.0\.1:\d+/").Value), Timeout = Patience };
        var slow = client.PostAsync("v1/responses", new StringContent(
            """{"input": "a slow one", "seed": 1, "provider_options": {"image": {"width": 16, "height": 16, "steps": 10000}}}""", Encoding.UTF8, "application/json"));
        flux2.WaitForError(l => l.Contains("generating"), Patience);
        var clock = Stopwatch.StartNew();
        flux2.Signal("INT");
        flux2.Signal("INT");
        Assert.Contains(flux2.WaitForExit(Patience), new[] { 0, 130 }); // a clean exit, or killed by SIGINT (128 + 2)
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the process ended {clock.Elapsed.TotalSeconds:F1} s after two Ctrl-Cs");
        try { await slow; } catch (HttpRequestException) { } // answered 503 by the clean stop, or cut off by the kill
    }

    /// <summary>A <c>flux2</c> child process with its output lines collected as they come.</summary>
    private sealed class Flux2Process : IDisposable
    {
        private readonly Process _process;
        private readonly BlockingCollection<string> _outputLines = [], _errorLines = [];
        private readonly ConcurrentQueue<string> _output = new(), _error = new();

        private Flux2Process(Process process) => _process = process;

        public IReadOnlyCollection<string> Output => _output;
        public IReadOnlyCollection<string> Error => _error;

        public static Flux2Process Start(params string[] args)
        {
            var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            info.ArgumentList.Add(typeof(CliApp).Assembly.Location);
            foreach (var a in args) info.ArgumentList.Add(a);
            var flux2 = new Flux2Process(new Process { StartInfo = info });
            flux2._process.OutputDataReceived += (_, e) => Collect(e.Data, flux2._output, flux2._outputLines);
            flux2._process.ErrorDataReceived += (_, e) => Collect(e.Data, flux2._error, flux2._errorLines);
            flux2._process.Start();
            flux2._process.BeginOutputReadLine();
            flux2._process.BeginErrorReadLine();
            return flux2;
        }

        private static void Collect(string? line, ConcurrentQueue<string> all, BlockingCollection<string> pending)
        {
            if (line == null) return;
            all.Enqueue(line);
            pending.Add(line);
        }

        public string WaitForOutput(Func<string, bool> match, TimeSpan timeout) => WaitFor(_outputLines, match, timeout, "stdout");

        public string WaitForError(Func<string, bool> match, TimeSpan timeout) => WaitFor(_errorLines, match, timeout, "stderr");

        private string WaitFor(BlockingCollection<string> lines, Func<string, bool> match, TimeSpan timeout, string stream)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < timeout)
            {
                if (lines.TryTake(out var line, TimeSpan.FromMilliseconds(100)))
                {
                    if (match(line)) return line;
                }
                else if (_process.HasExited && lines.Count == 0)
                {
                    break;
                }
            }
            throw new TimeoutException($"no matching line on {stream}; stdout: {string.Join(" | ", _output)}; stderr: {string.Join(" | ", _error)}");
        }

        public void Signal(string signal)
        {
            using var kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString()])!;
            kill.WaitForExit();
            Thread.Sleep(200); // two signals sent closer together could be delivered as one
        }

        public int WaitForExit(TimeSpan timeout)
        {
            if (!_process.WaitForExit(timeout)) throw new TimeoutException($"still running; stderr: {string.Join(" | ", _error)}");
            _process.WaitForExit(); // drains the output
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
