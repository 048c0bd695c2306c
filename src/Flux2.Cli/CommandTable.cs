namespace Flux2.Cli;

/// <summary>Every sub-command of <c>flux2</c>, in the order --help lists them.</summary>
public static class CommandTable
{
    public static IReadOnlyList<ICommand> All { get; } =
    [
        new InfoCommand(),
        new GenerateCommand(),
        new ServeCommand(),
        new DebugForwardCommand(),
        new DebugCompareCommand(),
        new DebugTokenizeCommand(),
        new QuantizeCommand(),
    ];
}
