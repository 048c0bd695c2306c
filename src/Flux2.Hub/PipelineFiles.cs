using Flux2.Core.Checkpoints;
using Flux2.Core.SafeTensors;

namespace Flux2.Hub;

/// <summary>
/// The files of a diffusers repository that the FLUX.2 pipeline reads, which is all a download fetches: model_index.json;
/// in each of its pipeline components (transformer, vae, text_encoder, tokenizer, scheduler) the small metadata files
/// (configs and tokenizer files: .json, .txt, .jinja) and the weights loading picks (<see cref="CheckpointComponent.ChooseWeights"/>):
/// one .safetensors file, or a shard index and then the shards its weight_map names. What else a repository holds (a BFL
/// single file at its root, fp16 variants, .bin copies, images) is never fetched.
/// </summary>
public static class PipelineFiles
{
    private static readonly string[] MetadataExtensions = [".json", ".txt", ".jinja"];

    /// <summary>The metadata files of every component, then their weights (a file or a shard index), as repository paths.</summary>
    /// <param name="files">every file of the repository (or of the cached snapshot)</param>
    /// <param name="where">names the repository in errors</param>
    public static IReadOnlyList<string> OfComponents(IReadOnlyCollection<string> files, ModelIndex index, string where)
    {
        var metadata = new List<string>();
        var weights = new List<string>();
        foreach (var component in ModelIndex.Flux2Components.Where(c => index.Component(c)?.IsPresent == true))
        {
            var (folderMetadata, folderWeights) = OfFolder(files, component, where);
            metadata.AddRange(folderMetadata);
            if (folderWeights != null) weights.Add(folderWeights);
        }
        return [.. metadata, .. weights];
    }

    /// <summary>What loading reads of one component folder (a repository path without a trailing '/'): its metadata files
    /// and the weights it picks (a file or a shard index; null when there are none), as repository paths.</summary>
    public static (IReadOnlyList<string> Metadata, string? Weights) OfFolder(IReadOnlyCollection<string> files, string folder, string where)
    {
        var names = files.Where(f => f.StartsWith(folder + "/", StringComparison.Ordinal) && f.IndexOf('/', folder.Length + 1) < 0)
            .Select(f => f[(folder.Length + 1)..]).ToList();
        var metadata = names.Where(IsMetadata).Order(StringComparer.Ordinal).Select(n => $"{folder}/{n}").ToList();
        return (metadata, CheckpointComponent.ChooseWeights(names, $"{where}: {folder}/") is { } chosen ? $"{folder}/{chosen}" : null);
    }

    /// <summary>The shards the index at <paramref name="indexPath"/> (repository path; its contents at <paramref name="localIndex"/>)
    /// names, as repository paths.</summary>
    public static IReadOnlyList<string> Shards(string indexPath, string localIndex) =>
        SafeTensorsCheckpoint.ReadShardIndex(localIndex).Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(s => indexPath[..(indexPath.LastIndexOf('/') + 1)] + s).ToList();

    /// <summary>Configs and tokenizer files; weight indexes are the weights' business.</summary>
    private static bool IsMetadata(string name) =>
        MetadataExtensions.Any(e => name.EndsWith(e, StringComparison.OrdinalIgnoreCase)) && !name.EndsWith(".index.json", StringComparison.OrdinalIgnoreCase);
}
