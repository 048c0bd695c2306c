using Flux2.Backends;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Checkpoints;
using Flux2.Models.Lora;
using Flux2.Pipelines;

namespace Flux2.Cli;

/// <summary><c>flux2 info PATH [--json]</c>: what a downloaded checkpoint is and whether it is complete, or what a LoRA file is
/// and which models it fits.</summary>
public sealed class InfoCommand(HubModels? hub = null) : ICommand
{
    private readonly HubModels _hub = hub ?? new HubModels();

    public string Name => "info";
    public string Summary => "inspect a checkpoint (layout, variant, config, dtypes, quantization, completeness) or a LoRA";

    public string Help =>
        """
        Usage: flux2 info PATH [--json]
               flux2 info [--transformer FILE] [--vae FILE] [--text-encoder PATH] [--tokenizer DIR] [--json]
               flux2 info --device cuda[:N]

        Inspects a FLUX.2 checkpoint without loading it: a diffusers repository (the folder with
        model_index.json), one component folder (config.json + weights), a single .safetensors file
        (e.g. a BFL flux2-dev.safetensors) or a .safetensors.index.json shard index. PATH may also be a
        Hugging Face model id (org/name[@revision]): its snapshot in the Hugging Face cache is inspected,
        after downloading what is missing (see flux2 download).

        The second form inspects the components generate and serve take as separate files: each must hold
        what its option says, a text encoder without config.json is validated against the configuration its
        shapes imply, and a text encoder that does not fit the transformer (joint_attention_dim must be
        3 x its hidden size) is reported.

        Reports the layout, the variant (dev, klein-4B, klein-9B; distilled or base), the resolved
        Flux2Config, the tensors by dtype, the quantized Linears and the NVFP4 plan of every double
        block, and a validation of the transformer against the tensors its configuration requires
        (missing, unexpected, wrong shape or dtype). Every component of a repository is reported.

        A LoRA or LyCORIS (LoHa, LoKr) .safetensors file is described instead: its modules by kind, their
        ranks (LoKr: factors) and key spellings, tensors that are no adapter tensor, and whether it fits
        klein-4B, klein-9B and dev (or only with --lora-lenient, and why not).

          --json     machine-readable output
          --device   instead of a checkpoint, report a GPU: its name, memory and driver, and where
                     the CUDA libraries the backend needs were found (or the one-line reason not)

        Exit code: 0 when the checkpoint is complete (or the GPU can run the CUDA backend, or the adapter
        fits a model), 1 when it is not (the report says why) or cannot be read, 2 for a command-line
        mistake.
        """;

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var options = new CommandArgs(args, new HashSet<string> { "json" });
        bool json = options.Flag("json");
        string? transformer = options.Optional("transformer"), vae = options.Optional("vae"), textEncoder = options.Optional("text-encoder"),
            tokenizer = options.Optional("tokenizer");
        bool separate = transformer != null || vae != null || textEncoder != null || tokenizer != null;
        var deviceText = options.Optional("device");
        options.EnsureAllUsed(maxPositionals: separate ? 0 : 1);
        if (deviceText != null) return DescribeDevice(deviceText, separate || options.Positionals.Count > 0 || json, output, error);
        if (!separate && options.Positionals.Count == 0)
            throw new CliException("missing PATH (a checkpoint folder, .safetensors file, .safetensors.index.json or Hugging Face model id)");

        string what = separate ? "the given components" : options.Positionals[0];
        string? Local(string? path) => path == null ? null : _hub.LocalPath(path, Name, error);
        var hubId = separate ? null : HubModels.IdOf(what);
        string? local = separate || hubId != null ? null : Local(what);
        if (local != null && AdapterInspection.IsAdapterFile(local)) return DescribeAdapter(local, json, output, error);
        var inspection = separate ? CheckpointInspector.InspectFiles(Local(transformer), Local(vae), Local(textEncoder), Local(tokenizer))
            : CheckpointInspector.Inspect(hubId is { } id ? _hub.Resolve(id, Name, error).Folder : local!);
        var report = InfoReport.Create(inspection);
        if (json) InfoJsonWriter.Write(report, output);
        else InfoTextWriter.Write(report, output);
        if (report.IsComplete) return CliApp.ExitOk;
        error.WriteLine($"flux2 info: {what} {(separate ? "are" : "is")} incomplete: {report.ProblemCount} problem{(report.ProblemCount == 1 ? "" : "s")} (see the report)");
        return CliApp.ExitFailure;
    }

    private static int DescribeAdapter(string path, bool json, TextWriter output, TextWriter error)
    {
        var adapter = AdapterInspection.Inspect(path);
        if (json) AdapterInfoWriter.WriteJson(adapter, output);
        else AdapterInfoWriter.WriteText(adapter, output);
        if (AdapterInfoWriter.FitsAModel(adapter)) return CliApp.ExitOk;
        error.WriteLine($"flux2 info: {path} is an adapter that fits none of klein-4B, klein-9B and dev (see the report)");
        return CliApp.ExitFailure;
    }

    private static int DescribeDevice(string text, bool withCheckpointOptions, TextWriter output, TextWriter error)
    {
        if (withCheckpointOptions) throw new CliException("--device reports a GPU and takes neither PATH nor --json");
        if (!DeviceRef.TryParse(text, out var device) || device.Kind != DeviceKind.Gpu)
            throw new CliException($"option --device: '{text}' is not cuda or cuda:N");
        var diagnostics = BackendFactory.DescribeGpu(device);
        foreach (var line in diagnostics.Lines) output.WriteLine(line);
        if (diagnostics.FreeBytes is { } free)
        {
            output.WriteLine($"what fits in the free memory (bf16 weights, {DeviceMemoryFit.ActivationReserve >> 30} GiB kept for activations):");
            foreach (var line in DeviceMemoryFit.Describe(free, ComputePrecision.BFloat16)) output.WriteLine("  " + line);
        }
        if (diagnostics.Problem == null) return CliApp.ExitOk;
        error.WriteLine($"flux2 info: {device} cannot run the CUDA backend: {diagnostics.Problem}");
        return CliApp.ExitFailure;
    }
}
