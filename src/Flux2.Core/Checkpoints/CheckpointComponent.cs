namespace Flux2.Core.Checkpoints;

/// <summary>
/// The files of one checkpoint component (a diffusers component folder, or the weights a path points at):
/// its configuration file and its weights (a .safetensors file or a shard index), either of which may be absent.
/// </summary>
public sealed record CheckpointComponent(
    string Name,
    string Directory,
    bool DirectoryExists,
    string? ConfigPath,
    string? WeightsPath,
    IReadOnlyList<string> FileNames)
{
    /// <summary>Weight files diffusers and transformers write, in the order they are preferred.</summary>
    public static IReadOnlyList<string> StandardWeightNames { get; } =
    [
        "diffusion_pytorch_model.safetensors.index.json", "diffusion_pytorch_model.safetensors",
        "model.safetensors.index.json", "model.safetensors",
    ];

    /// <summary>Configuration files of the component kinds a pipeline has, in the order they are preferred.</summary>
    public static IReadOnlyList<string> ConfigNames { get; } =
        ["config.json", "scheduler_config.json", "tokenizer_config.json", "preprocessor_config.json", "processor_config.json"];

    /// <summary>A tokenizer given as the GGUF file that carries it (the folder's other files are not part of it); null otherwise.</summary>
    public string? TokenizerFile { get; init; }

    public bool IsSharded => WeightsPath != null && WeightsPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>The component that is just one weights file (or shard index), with no configuration.</summary>
    public static CheckpointComponent ForWeights(string name, string weightsPath)
    {
        var full = System.IO.Path.GetFullPath(weightsPath);
        return new CheckpointComponent(name, System.IO.Path.GetDirectoryName(full)!, true, null, weightsPath, [System.IO.Path.GetFileName(full)]);
    }

    /// <summary>Looks into a component folder; a folder that does not exist gives a component with nothing in it.</summary>
    public static CheckpointComponent InFolder(string name, string directory)
    {
        if (!System.IO.Directory.Exists(directory)) return new CheckpointComponent(name, directory, false, null, null, []);
        var files = System.IO.Directory.EnumerateFiles(directory).Select(f => System.IO.Path.GetFileName(f)!).Order(StringComparer.Ordinal).ToList();
        var config = ConfigNames.FirstOrDefault(files.Contains);
        return new CheckpointComponent(name, directory, true, config == null ? null : System.IO.Path.Combine(directory, config),
            ChooseWeights(files, directory) is { } weights ? System.IO.Path.Combine(directory, weights) : null, files);
    }

    /// <summary>The weights file (or shard index) among a component folder's <paramref name="fileNames"/> that loading reads;
    /// null when there is none. Also decides what a download of the folder fetches. <paramref name="folder"/> names it in errors.</summary>
    public static string? ChooseWeights(IReadOnlyCollection<string> fileNames, string folder)
    {
        var standard = StandardWeightNames.FirstOrDefault(fileNames.Contains);
        if (standard != null) return standard;
        // Otherwise one index, or one file: anything more is ambiguous (e.g. an fp16 variant beside the full weights).
        var indexes = fileNames.Where(f => f.EndsWith(".safetensors.index.json", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (indexes.Count == 1) return indexes[0];
        var singles = fileNames.Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        if (indexes.Count == 0 && singles.Count == 1) return singles[0];
        if (indexes.Count + singles.Count == 0) return null;
        throw new CheckpointException(folder,
            $"cannot tell which weights to use among {string.Join(", ", indexes.Concat(singles))}; point at one file (or its .safetensors.index.json) instead");
    }
}
