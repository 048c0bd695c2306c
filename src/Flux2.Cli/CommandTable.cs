using Flux2.Backends;
using Flux2.Core.Backend;

namespace Flux2.Cli;

/// <summary>Every sub-command of <c>flux2</c>, in the order --help lists them.</summary>
public static class CommandTable
{
    /// <param name="backends">makes the backend factory the computing commands use (this build's backends by default)</param>
    /// <param name="hub">finds Hugging Face model ids (by default in the Hub and cache the environment names)</param>
    public static IReadOnlyList<ICommand> Create(Func<BackendOptions, IBackendFactory>? backends = null, HubModels? hub = null)
    {
        backends ??= ComputeOptions.BuiltIn;
        hub ??= new HubModels();
        return
        [
            new InfoCommand(hub),
            new GenerateCommand(backends, hub: hub),
            new ServeCommand(backends, hub: hub),
            new DownloadCommand(hub),
            new DebugForwardCommand(backends),
            new DebugCompareCommand(),
            new DebugTokenizeCommand(),
            new QuantizeCommand(),
        ];
    }
}
