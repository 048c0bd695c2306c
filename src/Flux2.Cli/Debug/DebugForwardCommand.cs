using Flux2.Backends;
using Flux2.Cli.Debug;
using Flux2.Core.Backend;

namespace Flux2.Cli;

/// <summary><c>flux2 debug forward COMPONENT --inputs IO --output OUT [options]</c>: runs one component on
/// golden-style tensors so results can be compared with any reference implementation.</summary>
/// <param name="backends">makes the backend factory from --threads (this build's backends by default)</param>
public sealed class DebugForwardCommand(Func<BackendOptions, IBackendFactory>? backends = null) : ICommand
{
    private readonly Func<BackendOptions, IBackendFactory> _backends = backends ?? ComputeOptions.BuiltIn;

    public string Name => "debug forward";
    public string Summary => "run one component on inputs.* tensors, write outputs.*";

    public string Help
    {
        get
        {
            var sw = new StringWriter();
            sw.WriteLine("Usage: flux2 debug forward <component> --inputs IO.safetensors --output OUT.safetensors [options]");
            sw.WriteLine();
            sw.WriteLine("Reads the component's inputs.* tensors (the layout of the golden io files) and writes its");
            sw.WriteLine("outputs.* tensors under the same names, for comparison with 'flux2 debug compare'.");
            sw.WriteLine("An existing output file is not overwritten unless --force is given. --device cpu|cuda[:N],");
            sw.WriteLine("--precision fp32|bf16 and --threads N choose where and how to compute (default: the CPU, exact fp32,");
            sw.WriteLine("all processors).");
            sw.WriteLine();
            sw.WriteLine("Components:");
            foreach (var c in ForwardComponents.All) sw.WriteLine($"  {c.Name,-14} {c.Usage}");
            return sw.ToString();
        }
    }

    public int Run(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        if (args.Count == 0 || args[0].StartsWith('-'))
            throw new CliException($"missing component; one of: {string.Join(", ", ForwardComponents.All.Select(c => c.Name))}");
        var component = ForwardComponents.All.FirstOrDefault(c => c.Name == args[0])
            ?? throw new CliException($"unknown component '{args[0]}'; one of: {string.Join(", ", ForwardComponents.All.Select(c => c.Name))}");
        // Value-less options of this command and of its components; a component that does not read one rejects it.
        var options = new CommandArgs(args.Skip(1).ToList(), new HashSet<string> { "force", "trace" });
        var inputsPath = options.Required("inputs");
        var outputPath = options.Required("output");
        bool force = options.Flag("force");
        // Outputs are compared with reference implementations: exact fp32 unless asked otherwise.
        var compute = ComputeOptions.Parse(options, _backends, ComputePrecision.Float32);
        if (!File.Exists(inputsPath)) throw new CliException($"--inputs: file not found: {inputsPath}");
        var outDir = Path.GetDirectoryName(Path.GetFullPath(outputPath))!;
        if (!Directory.Exists(outDir)) throw new CliException($"--output: directory does not exist: {outDir}");
        if (File.Exists(outputPath) && !force) throw new CliException($"--output: {outputPath} exists (use --force to overwrite)");

        using var inputs = new IoFile(inputsPath);
        var writer = new IoWriter(component.Name);
        component.Run(options, compute, inputs, writer, output);
        writer.Write(outputPath);
        output.WriteLine($"wrote {outputPath}");
        return CliApp.ExitOk;
    }
}
