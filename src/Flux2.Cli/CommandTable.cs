using Flux2.Backends;
using Flux2.Core.Backend;

namespace Flux2.Cli;

/// <summary>Every sub-command of <c>flux2</c>, in the order --help lists them.</summary>
public static class CommandTable
{
    /// <param name="backends">makes the backend factory the computing commands use (this build's backends by default)</param>
    public static IReadOnlyList<ICommand> Create(Func<BackendOptions, IBackendFactory>? backends = null)
    {
        backends ??= ComputeOptions.BuiltIn;
        return
        [
            new InfoCommand(),
            new GenerateCommand(backends),
            new ServeCommand(backends),
            new DebugForwardCommand(backends),
            new DebugCompareCommand(),
            new DebugTokenizeCommand(),
            new QuantizeCommand(),
        ];
    }
}
