using System.Diagnostics;
using Flux2.Hub;

namespace Flux2.Cli;

/// <summary>
/// Shows each file's download on the error stream: a bar redrawn in place (bytes, rate) on a terminal, a line when a file
/// starts and one when it is done otherwise.
/// </summary>
public sealed class DownloadProgressReporter(TextWriter error, bool interactive)
{
    private const int BarWidth = 30;
    private static readonly TimeSpan RedrawInterval = TimeSpan.FromMilliseconds(200);

    private readonly Stopwatch _clock = new();
    private string? _path;
    private long _startBytes;
    private TimeSpan _lastDraw;

    public void OnProgress(HubTransfer t)
    {
        if (t.Path != _path)
        {
            _path = t.Path;
            _startBytes = t.Done;
            _clock.Restart();
            _lastDraw = TimeSpan.MinValue;
            if (!interactive)
                error.WriteLine($"downloading {t.Path} ({InfoReport.Bytes(t.Total)}" + (t.Done > 0 ? $", resuming at {InfoReport.Bytes(t.Done)})" : ")"));
        }
        bool done = t.Done == t.Total;
        if (interactive && (done || _clock.Elapsed - _lastDraw >= RedrawInterval))
        {
            _lastDraw = _clock.Elapsed;
            int filled = t.Total == 0 ? BarWidth : (int)(BarWidth * t.Done / t.Total);
            double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 1e-3);
            var rate = InfoReport.Bytes((long)((t.Done - _startBytes) / seconds));
            error.Write($"\r{t.Path} [{new string('#', filled)}{new string('.', BarWidth - filled)}] " +
                $"{InfoReport.Bytes(t.Done)} / {InfoReport.Bytes(t.Total)}  {rate}/s   ");
            if (done) error.WriteLine();
        }
        else if (!interactive && done)
        {
            error.WriteLine($"downloaded {t.Path}");
        }
        if (done) _path = null;
        error.Flush();
    }

    /// <summary>Ends a bar interrupted mid-line (an error, Ctrl-C) so the next message starts on its own line.</summary>
    public void Interrupt()
    {
        if (interactive && _path != null) error.WriteLine();
        _path = null;
    }
}
