using System.Globalization;
using System.Reflection;

namespace Flux2.Pipelines;

/// <summary>What a written image records about its making, the same wherever it is written (<c>flux2 generate</c>'s files,
/// the server's answers): prompt, seed, steps, guidance, size, model, LoRAs and software version, as PNG text chunks or as
/// the XMP of a JPEG or WebP file (<see cref="Images.ImageEncoding"/>).</summary>
public static class GenerationMetadata
{
    /// <summary>This build's version (the informational version without its source hash).</summary>
    public static string Version { get; } =
        typeof(GenerationMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <param name="references">the reference images' names (file names are kept without their folders)</param>
    public static List<KeyValuePair<string, string>> Entries(Flux2Pipeline pipeline, GenerationPlan plan, string prompt,
        string? negativePrompt, ulong seed, IReadOnlyList<string> references)
    {
        var text = new List<KeyValuePair<string, string>>
        {
            new("prompt", prompt),
            new("seed", seed.ToString(CultureInfo.InvariantCulture)),
            new("steps", plan.Steps.ToString(CultureInfo.InvariantCulture)),
            new("guidance", plan.Guidance.ToString(CultureInfo.InvariantCulture)),
            new("size", $"{plan.Width}x{plan.Height}"),
            new("model", $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(pipeline.Source)))} ({pipeline.Variant.DisplayName()})"),
            new("Software", $"flux2 {Version}"),
        };
        if (negativePrompt != null) text.Add(new("negative_prompt", negativePrompt));
        if (references.Count > 0) text.Add(new("reference_images", string.Join(", ", references.Select(Path.GetFileName))));
        if (plan.Loras.Count > 0)
            text.Add(new("loras", string.Join(", ", plan.Loras.Select(f => $"{Path.GetFileName(f.Path)}:{f.Scale.ToString(CultureInfo.InvariantCulture)}"))));
        return text;
    }
}
