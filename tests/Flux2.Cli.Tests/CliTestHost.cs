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
    public static CliResult Run(params string[] args)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        int code = CliApp.Run(args, output, error);
        return new CliResult(code, output.ToString(), error.ToString());
    }
}
