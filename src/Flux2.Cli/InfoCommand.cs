namespace Flux2.Cli;

/// <summary><c>flux2 info PATH [--json]</c>: what a downloaded checkpoint is and whether it is complete.</summary>
public sealed class InfoCommand(HubModels? hub = null) : ICommand
{
    private readonly HubModels _hub = hub ?? new HubModels();

    public string Name => "info";
    public string Summary => "inspect a checkpoint: layout, variant, config, dtypes, quantization, completeness";

    public string Help =>
        """
        Usage: flux2 info PATH [--json]

        Inspects a FLUX.2 checkpoint without loading it: a diffusers repository (the folder with
        model_index.json), one component folder (config.json + weights), a single .safetensors file
        (e.g. a BFL flux2-dev.safetensors) or a .safetensors.index.json shard index. PATH may also be a
        Hugging Face model id (org/name[@revision]): its snapshot in the Hugging Face cache is inspected,
        after downloading what is missing (see flux2 download).

        Reports the layout, the variant (dev, klein-4B, klein-9B; distilled or base), the resolved
        Flux2Config, the tensors by dtype, the quantized Linears and the NVFP4 plan of every double
        block, and a validation of the transformer against the tensors its configuration requires
        (missing, unexpected, wrong shape or dtype). Every component of a repository is reported.

          --json   machine-readable output

        Exit code: 0 when the checkpoint is complete, 1 when it is not (the report says why) or
        cannot be read, 2 for a command-line mistake.
        """;

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var options = new CommandArgs(args, new HashSet<string> { "json" });
        bool json = options.Flag("json");
        options.EnsureAllUsed(maxPositionals: 1);
        if (options.Positionals.Count == 0) throw new CliException("missing PATH (a checkpoint folder, .safetensors file or .safetensors.index.json)");

        var path = options.Positionals[0];
        var report = InfoReport.Create(HubModels.IdOf(path) is { } id ? _hub.Resolve(id, Name, error).Folder : path);
        if (json) InfoJsonWriter.Write(report, output);
        else InfoTextWriter.Write(report, output);
        if (report.IsComplete) return CliApp.ExitOk;
        error.WriteLine($"flux2 info: {options.Positionals[0]} is incomplete: {report.ProblemCount} problem{(report.ProblemCount == 1 ? "" : "s")} (see the report)");
        return CliApp.ExitFailure;
    }
}
