using System.Globalization;
using Flux2.Models.Quantization;

namespace Flux2.Cli;

/// <summary><c>flux2 quantize --format nvfp4|fp8 IN OUT [--force]</c>: writes an NVFP4 or FP8 copy of a float transformer checkpoint.</summary>
public sealed class QuantizeCommand : ICommand
{
    public string Name => "quantize";
    public string Summary => "quantize a transformer checkpoint to NVFP4 or FP8";

    public string Help =>
        """
        Usage: flux2 quantize --format nvfp4|fp8 IN.safetensors OUT.safetensors [--force]

        Reads a float (F32/BF16/F16) FLUX.2 transformer checkpoint with BFL or diffusers tensor names (a
        .safetensors file or a .safetensors.index.json) and writes the published quantized layout with BFL
        names and _quantization_metadata:
          nvfp4  the FLUX.2-dev-NVFP4 layer set: every single-block Linear and, per double block, the image
                 attention and both MLPs (the text attention stays bf16); swizzled block scales
          fp8    every double- and single-block Linear, F8_E4M3 with a per-tensor scale
        Other tensors are copied unchanged. OUT is not overwritten unless --force is given; it appears only
        once it is complete.

        """;

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var options = new CommandArgs(args, new HashSet<string> { "force" });
        var format = options.Required("format") switch
        {
            "nvfp4" => QuantizedCheckpointFormat.Nvfp4,
            "fp8" => QuantizedCheckpointFormat.Fp8,
            var other => throw new CliException($"option --format: '{other}' is not a quantized format (expected nvfp4 or fp8)"),
        };
        bool force = options.Flag("force");
        options.EnsureAllUsed(maxPositionals: 2);
        if (options.Positionals.Count < 2) throw new CliException("expected IN and OUT checkpoint paths");
        string inputPath = options.Positionals[0], outputPath = options.Positionals[1];
        if (!File.Exists(inputPath)) throw new CliException($"input checkpoint not found: {inputPath}");
        var outDir = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        if (!Directory.Exists(outDir)) throw new CliException($"output directory does not exist: {outDir}");
        if (Path.GetFullPath(outputPath) == Path.GetFullPath(inputPath)) throw new CliException("OUT must differ from IN");
        if (File.Exists(outputPath) && !force) throw new CliException($"{outputPath} exists (use --force to overwrite)");

        var summary = Flux2CheckpointQuantizer.Quantize(inputPath, outputPath, format);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"wrote {outputPath}: {summary.QuantizedLayers.Count} Linears as {(format == QuantizedCheckpointFormat.Nvfp4 ? "NVFP4" : "FP8")}, " +
            $"{summary.Tensors} input tensors, {summary.InputBytes / 1048576.0:F1} MiB -> {summary.OutputBytes / 1048576.0:F1} MiB"));
        return CliApp.ExitOk;
    }
}
