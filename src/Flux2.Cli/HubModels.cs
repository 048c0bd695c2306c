using Flux2.Hub;

namespace Flux2.Cli;

/// <summary>
/// What a model argument names: a local file or folder when one exists at that path, else a Hugging Face model id
/// "org/name[@revision]", found in the Hugging Face cache and completed from the Hub (a progress bar per file on stderr).
/// Ctrl-C stops a download cleanly; the next run resumes it.
/// </summary>
/// <param name="settings">the Hub and cache settings (default: from the environment, read only when an id is resolved)</param>
public sealed class HubModels(Func<HubSettings>? settings = null)
{
    private readonly Func<HubSettings> _settings = settings ?? (() => HubSettings.FromEnvironment());

    /// <summary>The model id <paramref name="model"/> stands for; null when it is a local path (one exists there, or it is no id).</summary>
    public static HubModelId? IdOf(string model) =>
        File.Exists(model) || Directory.Exists(model) || !HubModelId.TryParse(model, out var id) ? null : id;

    /// <summary>Finds <paramref name="id"/> in the cache, downloading what is missing.</summary>
    /// <exception cref="OperationCanceledException">Ctrl-C, SIGTERM or <paramref name="stop"/> during a download</exception>
    public HubSnapshot Resolve(HubModelId id, string command, TextWriter error, CancellationToken stop = default)
    {
        var progress = new DownloadProgressReporter(error, ProgressReporter.IsTerminal(error));
        var resolver = new HubResolver(_settings())
        {
            Progress = progress.OnProgress,
            Notice = notice => error.WriteLine($"flux2 {command}: note: {notice}"),
        };
        using var signals = new StopSignals(stop);
        try
        {
            return resolver.ResolveAsync(id, signals.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e) when (signals.Token.IsCancellationRequested)
        {
            progress.Interrupt();
            throw new HubException($"the download of {id} was cancelled; run the command again to resume it", e);
        }
        catch
        {
            progress.Interrupt();
            throw;
        }
    }
}
