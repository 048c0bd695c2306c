namespace Flux2.Cli.Debug;

/// <summary>One component <c>flux2 debug forward</c> can run on golden-style io files.</summary>
public interface IForwardComponent
{
    /// <summary>The word after "debug forward", e.g. "transformer".</summary>
    string Name { get; }
    /// <summary>The options this component takes beyond --inputs/--output, for --help.</summary>
    string Usage { get; }
    /// <summary>Reads <c>inputs.*</c> from <paramref name="inputs"/>, runs on <paramref name="compute"/>'s device, and adds
    /// <c>outputs.*</c> to <paramref name="outputs"/>. Reads its own options from <paramref name="args"/> and calls
    /// <c>args.EnsureAllUsed(0)</c> before any heavy work.</summary>
    void Run(CommandArgs args, ComputeOptions compute, IoFile inputs, IoWriter outputs, TextWriter log);
}
