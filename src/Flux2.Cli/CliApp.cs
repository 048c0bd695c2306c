using Flux2.Backends;
using Flux2.Core.Backend;
using Flux2.Pipelines;

namespace Flux2.Cli;

/// <summary>Entry point logic, callable in-process by tests: picks the command, turns errors into one line and an exit code.</summary>
public static class CliApp
{
    public const int ExitOk = 0;
    public const int ExitFailure = 1;
    public const int ExitUsage = 2;

    public static string Version => GenerationMetadata.Version;

    /// <param name="backends">the backend factory of the computing commands; default this build's backends (tests pass others)</param>
    /// <param name="hub">finds Hugging Face model ids; default the Hub and cache the environment names (tests pass others)</param>
    public static int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error, Func<BackendOptions, IBackendFactory>? backends = null,
        HubModels? hub = null)
    {
        var commands = CommandTable.Create(backends, hub);
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            output.Write(Usage(commands));
            return args.Count == 0 ? ExitUsage : ExitOk;
        }
        if (args[0] is "--version" or "version")
        {
            output.WriteLine($"flux2 {Version}");
            return ExitOk;
        }
        // Longest match on the command words ("debug forward" before "debug").
        var command = commands
            .Where(c => Matches(c.Name, args))
            .MaxBy(c => c.Name.Split(' ').Length);
        if (command == null)
        {
            error.WriteLine($"flux2: error: unknown command '{string.Join(' ', args.TakeWhile(a => !a.StartsWith('-')).Take(2))}'. Run 'flux2 --help'.");
            return ExitUsage;
        }
        var rest = args.Skip(command.Name.Split(' ').Length).ToList();
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            output.Write(command.Help);
            return ExitOk;
        }
        try
        {
            return command.Run(rest, output, error);
        }
        catch (CliException e)
        {
            error.WriteLine($"flux2 {command.Name}: error: {e.Message}");
            return ExitUsage;
        }
        catch (Exception e) when (IsUserFacing(e))
        {
            error.WriteLine($"flux2 {command.Name}: error: {e.Message}");
            return ExitFailure;
        }
    }

    /// <summary>Errors a user can cause (bad files, bad shapes, unsupported content) are reported as one line.</summary>
    private static bool IsUserFacing(Exception e) =>
        e is Flux2.Core.Flux2Exception or IOException or UnauthorizedAccessException
            or NotSupportedException or InvalidDataException or OperationCanceledException;

    private static bool Matches(string name, IReadOnlyList<string> args)
    {
        var words = name.Split(' ');
        if (args.Count < words.Length) return false;
        for (int i = 0; i < words.Length; i++)
            if (!string.Equals(words[i], args[i], StringComparison.Ordinal)) return false;
        return true;
    }

    private static string Usage(IReadOnlyList<ICommand> commands)
    {
        var sw = new StringWriter();
        sw.WriteLine($"flux2 {Version} — FLUX.2 image generation");
        sw.WriteLine();
        sw.WriteLine("Usage: flux2 <command> [options]   (flux2 <command> --help for details)");
        sw.WriteLine();
        sw.WriteLine("Commands:");
        foreach (var c in commands) sw.WriteLine($"  {c.Name,-22} {c.Summary}");
        return sw.ToString();
    }
}
