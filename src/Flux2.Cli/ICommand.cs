namespace Flux2.Cli;

/// <summary>One <c>flux2</c> sub-command.</summary>
public interface ICommand
{
    /// <summary>The words that select it, e.g. "info" or "debug compare".</summary>
    string Name { get; }
    string Summary { get; }
    /// <summary>Full usage text printed by --help.</summary>
    string Help { get; }
    int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error);
}
