using System.Globalization;
using Flux2.Models.Lora;

namespace Flux2.Cli;

/// <summary>The LoRA options of <c>flux2 generate</c>: <c>--lora FILE[:SCALE]</c> (repeatable) and <c>--lora-lenient</c>.</summary>
internal static class GenerateLoraOptions
{
    public const string LenientFlag = "lora-lenient";

    /// <summary>The LoRA files in the order given, and whether tensors that adapt no layer are skipped with a warning.</summary>
    /// <param name="alternative">another option of the command that gives LoRAs (serve's lora-dir)</param>
    public static (IReadOnlyList<LoraFile> Files, bool Lenient) Parse(CommandArgs o, string? alternative = null)
    {
        var files = o.Many("lora").Select(ParseOne).ToList();
        bool lenient = o.Flag(LenientFlag);
        if (lenient && files.Count == 0 && (alternative == null || o.Optional(alternative) == null))
            throw new CliException($"option --{LenientFlag} needs a --lora{(alternative == null ? "" : $" or a --{alternative}")}");
        return (files, lenient);
    }

    /// <summary>The files with each Hugging Face reference (org/name[@revision]/path or its https://huggingface.co address, when no
    /// local file has that name) replaced by its copy in the Hugging Face cache, downloaded when missing.</summary>
    public static IReadOnlyList<LoraFile> Resolve(IReadOnlyList<LoraFile> files, HubModels hub, string command, TextWriter error,
        CancellationToken stop) =>
        files.Select(f => f with { Path = hub.LocalPath(f.Path, command, error, stop) }).ToList();

    /// <summary>FILE or FILE:SCALE. The scale is what follows the last colon when it is a number, so a path with a colon
    /// (C:\loras\x.safetensors) stays whole.</summary>
    public static LoraFile ParseOne(string value)
    {
        int colon = value.LastIndexOf(':');
        if (colon > 0)
        {
            var (file, scaleText) = (value[..colon], value[(colon + 1)..]);
            if (double.TryParse(scaleText, NumberStyles.Float, CultureInfo.InvariantCulture, out var scale))
            {
                if (!double.IsFinite(scale) || Math.Abs(scale) > float.MaxValue) throw new CliException($"option --lora: scale '{scaleText}' is not a finite number");
                return new LoraFile(file, (float)scale);
            }
            if (!File.Exists(value) && File.Exists(file))
                throw new CliException($"option --lora: '{scaleText}' after the file {file} is not a number (expected FILE[:SCALE])");
        }
        if (value.Length == 0) throw new CliException("option --lora: the file name is empty");
        return new LoraFile(value);
    }
}
