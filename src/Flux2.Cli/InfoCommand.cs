using Flux2.Backends;
using Flux2.Core;

namespace Flux2.Cli;

/// <summary><c>flux2 info PATH [--json]</c>: what a downloaded checkpoint is and whether it is complete.</summary>
public sealed class InfoCommand : ICommand
{
    public string Name => "info";
    public string Summary => "inspect a checkpoint: layout, variant, config, dtypes, quantization, completeness";

    public string Help =>
        """
        Usage: flux2 info PATH [--json]
               flux2 info --device cuda[:N]

        Inspects a FLUX.2 checkpoint without loading it: a diffusers repository (the folder with
        model_index.json), one component folder (config.json + weights), a single .safetensors file
        (e.g. a BFL flux2-dev.safetensors) or a .safetensors.index.json shard index.

        Reports the layout, the variant (dev, klein-4B, klein-9B; distilled or base), the resolved
        Flux2Config, the tensors by dtype, the quantized Linears and the NVFP4 plan of every double
        block, and a validation of the transformer against the tensors its configuration requires
        (missing, unexpected, wrong shape or dtype). Every component of a repository is reported.

          --json     machine-readable output
          --device   instead of a checkpoint, report a GPU: its name, memory and driver, and where
                     the CUDA libraries the backend needs were found (or the one-line reason not)

        Exit code: 0 when the checkpoint is complete (or the GPU can run the CUDA backend), 1 when
        it is not (the report says why) or cannot be read, 2 for a command-line mistake.
        """;

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var options = new CommandArgs(args, new HashSet<string> { "json" });
        bool json = options.Flag("json");
        var deviceText = options.Optional("device");
        options.EnsureAllUsed(maxPositionals: 1);
        if (deviceText != null) return DescribeDevice(deviceText, options.Positionals.Count > 0 || json, output, error);
        if (options.Positionals.Count == 0) throw new CliException("missing PATH (a checkpoint folder, .safetensors file or .safetensors.index.json)");

        var report = InfoReport.Create(options.Positionals[0]);
        if (json) InfoJsonWriter.Write(report, output);
        else InfoTextWriter.Write(report, output);
        if (report.IsComplete) return CliApp.ExitOk;
        error.WriteLine($"flux2 info: {options.Positionals[0]} is incomplete: {report.ProblemCount} problem{(report.ProblemCount == 1 ? "" : "s")} (see the report)");
        return CliApp.ExitFailure;
    }

    private static int DescribeDevice(string text, bool withCheckpointOptions, TextWriter output, TextWriter error)
    {
        if (withCheckpointOptions) throw new CliException("--device reports a GPU and takes neither PATH nor --json");
        if (!DeviceRef.TryParse(text, out var device) || device.Kind != DeviceKind.Gpu)
            throw new CliException($"option --device: '{text}' is not cuda or cuda:N");
        var diagnostics = BackendFactory.DescribeGpu(device);
        foreach (var line in diagnostics.Lines) output.WriteLine(line);
        if (diagnostics.Problem == null) return CliApp.ExitOk;
        error.WriteLine($"flux2 info: {device} cannot run the CUDA backend: {diagnostics.Problem}");
        return CliApp.ExitFailure;
    }
}
