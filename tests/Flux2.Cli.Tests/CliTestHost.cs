using Flux2.Backends;
using Flux2.Core.Backend;
using Flux2.Hub;
using Flux2.Testing;

namespace Flux2.Cli.Tests;

/// <summary>What one in-process run of the CLI produced.</summary>
public sealed record CliResult(int ExitCode, string Output, string Error)
{
    /// <summary>The error stream's non-empty lines.</summary>
    public IReadOnlyList<string> ErrorLines =>
        Error.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>Runs <see cref="CliApp.Run"/> in-process with captured stdout and stderr, as the <c>flux2</c> executable would.</summary>
public static class CliTestHost
{
    /// <summary>With this build's backends, as the executable runs.</summary>
    public static CliResult Run(params string[] args) => Run(args, backends: null);

    /// <summary>With the named <see cref="TestBackends"/> backend for every computing command.</summary>
    public static CliResult RunOn(string backend, params string[] args) => Run(args, _ => TestBackends.Factory(backend));

    /// <summary>With <paramref name="backends"/> for every computing command.</summary>
    public static CliResult RunOn(IBackendFactory backends, params string[] args) => Run(args, _ => backends);

    /// <summary>With Hugging Face model ids found through <paramref name="hub"/> instead of the environment's Hub and cache.</summary>
    public static CliResult RunWithHub(HubSettings hub, params string[] args) => Run(args, backends: null, new HubModels(() => hub));

    private static CliResult Run(string[] args, Func<BackendOptions, IBackendFactory>? backends, HubModels? hub = null)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run(args, output, error, backends, hub);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
