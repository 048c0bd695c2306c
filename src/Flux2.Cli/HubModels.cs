using Flux2.Hub;

namespace Flux2.Cli;

/// <summary>
/// What a model argument names: a local file or folder when one exists at that path, else a Hugging Face model id
/// "org/name[@revision]" (or, for a component, a file or folder of one: <see cref="HubPathReference"/>), found in the Hugging
/// Face cache and completed from the Hub (a progress bar per file on stderr).
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
    public HubSnapshot Resolve(HubModelId id, string command, TextWriter error, CancellationToken stop = default) =>
        Run(id.ToString(), command, error, stop, (resolver, token) => resolver.ResolveAsync(id, token));

    /// <summary>The local path a component option names: the path itself when a file or folder is there (or it is no Hub
    /// path), else the file or component folder of a Hub repository it references, found in the cache and downloaded when
    /// missing.</summary>
    public string LocalPath(string value, string command, TextWriter error, CancellationToken stop = default)
    {
        if (File.Exists(value) || Directory.Exists(value) || !HubPathReference.TryParse(value, out var reference)) return value;
        try
        {
            return ResolvePath(reference, command, error, stop);
        }
        catch (HubException e)
        {
            // The value may have been meant as a local path with a typo: say how it was read.
            throw new HubException($"{value}: no such file here, so it was read as a path in a Hugging Face repository: {e.Message}", e);
        }
    }

    /// <summary>The cached copy of one file or component folder of a Hub repository, downloaded when missing.</summary>
    public string ResolvePath(HubPathReference reference, string command, TextWriter error, CancellationToken stop = default) =>
        Run(reference.ToString(), command, error, stop, (resolver, token) => resolver.ResolvePathAsync(reference, token));

    private T Run<T>(string what, string command, TextWriter error, CancellationToken stop, Func<HubResolver, CancellationToken, Task<T>> resolve)
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
            return resolve(resolver, signals.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException e) when (signals.Token.IsCancellationRequested)
        {
            progress.Interrupt();
            throw new HubException($"the download of {what} was cancelled; run the command again to resume it", e);
        }
        catch
        {
            progress.Interrupt();
            throw;
        }
    }
}
