namespace Flux2.Core.Checkpoints;

/// <summary>
/// What a user-given path holds, found from the files alone (spec §4.7 step 1): a diffusers repository, a
/// component folder, a single .safetensors or .gguf file or a shard index, with the components it contains.
/// Nothing is opened beyond model_index.json; weights are inspected by whoever reads the components.
/// </summary>
public sealed record CheckpointSource(string Path, CheckpointLayout Layout, ModelIndex? ModelIndex, IReadOnlyList<CheckpointComponent> Components)
{
    public CheckpointComponent? Component(string name) => Components.FirstOrDefault(c => c.Name == name);

    public static CheckpointSource Discover(string path)
    {
        if (Directory.Exists(path)) return DiscoverDirectory(path);
        if (!File.Exists(path)) throw new CheckpointException(path, "no such file or directory");
        var name = System.IO.Path.GetFileName(path);
        if (name == ModelIndex.FileName) return Repository(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        if (name.EndsWith(".safetensors.index.json", StringComparison.OrdinalIgnoreCase))
            return new CheckpointSource(path, CheckpointLayout.ShardIndex, null, [CheckpointComponent.ForWeights(StemOf(name), path)]);
        if (name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            return new CheckpointSource(path, CheckpointLayout.SingleFile, null, [CheckpointComponent.ForWeights(StemOf(name), path)]);
        if (name.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
            return new CheckpointSource(path, CheckpointLayout.GgufFile, null, [CheckpointComponent.ForWeights(StemOf(name), path)]);
        if (CheckpointComponent.ConfigNames.Contains(name)) return DiscoverDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        throw new CheckpointException(path,
            "not a checkpoint: expected a folder (diffusers repository or component), a .safetensors or .gguf file or a .safetensors.index.json");
    }

    private static CheckpointSource DiscoverDirectory(string directory)
    {
        if (File.Exists(System.IO.Path.Combine(directory, ModelIndex.FileName))) return Repository(directory);
        var component = CheckpointComponent.InFolder(FolderName(directory), directory);
        if (component.ConfigPath == null && component.WeightsPath == null)
            throw new CheckpointException(directory,
                "not a checkpoint folder: it has no model_index.json, no config.json (or scheduler/tokenizer config) and no .safetensors weights");
        return new CheckpointSource(directory, CheckpointLayout.ComponentFolder, null, [component]);
    }

    private static CheckpointSource Repository(string directory)
    {
        var index = ModelIndex.Read(System.IO.Path.Combine(directory, ModelIndex.FileName));
        var components = index.Components
            .Where(c => c.IsPresent)
            .Select(c => CheckpointComponent.InFolder(c.Name, System.IO.Path.Combine(directory, c.Name)))
            .ToList();
        return new CheckpointSource(directory, CheckpointLayout.DiffusersRepository, index, components);
    }

    private static string FolderName(string directory) =>
        System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(directory)));

    /// <summary>"flux2-dev.safetensors" → "flux2-dev"; "model.safetensors.index.json" → "model"; "flux2-dev-Q4_K_M.gguf" → "flux2-dev-Q4_K_M".</summary>
    private static string StemOf(string fileName)
    {
        foreach (var suffix in (string[])[".safetensors.index.json", ".safetensors", ".gguf"])
            if (fileName.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) return fileName[..^suffix.Length];
        return fileName;
    }
}
