using System.Text.Json;
using Flux2.Core.Checkpoints;
using Flux2.Core.Files;
using Flux2.Core.Gguf;

namespace Flux2.Core.SafeTensors;

/// <summary>
/// The tensors of one checkpoint, whether stored as a single safetensors file, sharded through a
/// <c>*.safetensors.index.json</c>, or as a GGUF file (<see cref="GgufFile"/>). Names resolve to zero-copy views in whichever
/// shard holds them; <see cref="Metadata"/> is the union of every shard's <c>__metadata__</c>.
/// </summary>
public sealed class SafeTensorsCheckpoint : IDisposable
{
    private readonly List<ITensorFile> _files;
    private readonly Dictionary<string, ITensorFile> _owner;

    /// <summary>The file opened: a .safetensors file or the shard index.</summary>
    public string Path { get; }
    public IReadOnlyList<ITensorFile> Files => _files;
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>Every tensor name, in file order then header order.</summary>
    public IReadOnlyList<string> Names { get; }

    private SafeTensorsCheckpoint(string path, List<ITensorFile> files, Dictionary<string, ITensorFile> owner,
        List<string> names, Dictionary<string, string> metadata)
    {
        Path = path;
        _files = files;
        _owner = owner;
        Names = names;
        Metadata = metadata;
    }

    /// <summary>Opens a .safetensors file, a .safetensors.index.json shard index or a .gguf file.</summary>
    public static SafeTensorsCheckpoint Open(string path) =>
        path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? OpenIndex(path) : FromFiles(path, [path]);

    /// <summary>Opens several files as one checkpoint; a tensor name present in two files is an error.</summary>
    public static SafeTensorsCheckpoint FromFiles(string displayPath, IReadOnlyList<string> paths)
    {
        var files = new List<ITensorFile>();
        try
        {
            foreach (var p in paths) files.Add(IsGguf(p) ? GgufFile.Open(p) : SafeTensorsFile.Open(p));
            var owner = new Dictionary<string, ITensorFile>(StringComparer.Ordinal);
            var names = new List<string>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var f in files)
            {
                foreach (var n in f.Names)
                {
                    if (!owner.TryAdd(n, f))
                        throw new SafeTensorsException(f.FilePath, n, $"tensor also present in shard '{owner[n].FilePath}'");
                    names.Add(n);
                }
                foreach (var (k, v) in f.Metadata) metadata.TryAdd(k, v);
            }
            return new SafeTensorsCheckpoint(displayPath, files, owner, names, metadata);
        }
        catch
        {
            foreach (var f in files) f.Dispose();
            throw;
        }
    }

    /// <summary>The <c>weight_map</c> of a <c>*.safetensors.index.json</c>: tensor name → shard file name (a plain name beside the index).</summary>
    public static IReadOnlyDictionary<string, string> ReadShardIndex(string indexPath)
    {
        var bytes = RegularFile.ReadAllBytes(indexPath, JsonText.MaxFileBytes, problem => new SafeTensorsException(indexPath, null, "shard index " + problem));
        try
        {
            using var doc = JsonText.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException(indexPath, null, "shard index must be an object with a 'weight_map' object");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in map.EnumerateObject())
            {
                if (e.Value.ValueKind != JsonValueKind.String)
                    throw new SafeTensorsException(indexPath, e.Name, "weight_map value must be a shard file name");
                var shard = e.Value.GetString()!;
                if (shard.Length == 0 || shard.Contains('/') || shard.Contains('\\') || shard.Contains(".."))
                    throw new SafeTensorsException(indexPath, e.Name, $"shard name '{shard}' must be a plain file name beside the index");
                if (!weightMap.TryAdd(e.Name, shard))
                    throw new SafeTensorsException(indexPath, e.Name, "duplicate entry in weight_map");
            }
            if (weightMap.Count == 0) throw new SafeTensorsException(indexPath, null, "shard index lists no tensors in 'weight_map'");
            return weightMap;
        }
        catch (JsonException e)
        {
            throw new SafeTensorsException(indexPath, null, "shard index is not valid JSON: " + e.Message, e);
        }
    }

    private static SafeTensorsCheckpoint OpenIndex(string indexPath)
    {
        var weightMap = ReadShardIndex(indexPath);
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(indexPath))!;
        var shards = weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        foreach (var s in shards)
        {
            var full = System.IO.Path.Combine(dir, s);
            if (!File.Exists(full)) throw new SafeTensorsException(indexPath, null, $"shard '{s}' listed in weight_map is missing");
        }
        var checkpoint = FromFiles(indexPath, shards.Select(s => System.IO.Path.Combine(dir, s)).ToList());
        try
        {
            foreach (var (name, shard) in weightMap)
            {
                if (!checkpoint._owner.TryGetValue(name, out var f))
                    throw new SafeTensorsException(indexPath, name, $"weight_map puts the tensor in '{shard}' but no shard holds it");
                if (!string.Equals(System.IO.Path.GetFileName(f.FilePath), shard, StringComparison.Ordinal))
                    throw new SafeTensorsException(indexPath, name, $"weight_map says '{shard}' but the tensor is in '{System.IO.Path.GetFileName(f.FilePath)}'");
            }
            foreach (var name in checkpoint.Names)
                if (!weightMap.ContainsKey(name))
                    throw new SafeTensorsException(indexPath, name, $"tensor in shard '{System.IO.Path.GetFileName(checkpoint._owner[name].FilePath)}' is not listed in weight_map");
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
        return checkpoint;
    }

    /// <summary>A file named .gguf, or one that starts with GGUF's magic whatever its name.</summary>
    public static bool IsGguf(string path) =>
        path.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase) || GgufFile.HasMagic(path);

    public bool Contains(string name) => _owner.ContainsKey(name);

    public TensorInfo Info(string name) =>
        _owner.TryGetValue(name, out var f) ? f.Tensors[name] : throw new SafeTensorsException(Path, name, "no such tensor in the checkpoint");

    public TensorView Get(string name) =>
        _owner.TryGetValue(name, out var f) ? f.Get(name) : throw new SafeTensorsException(Path, name, "no such tensor in the checkpoint");

    /// <summary>The tensor's bytes as stored (<see cref="ITensorFile.GetStored"/>).</summary>
    public TensorView GetStored(string name) =>
        _owner.TryGetValue(name, out var f) ? f.GetStored(name) : throw new SafeTensorsException(Path, name, "no such tensor in the checkpoint");

    public bool TryGet(string name, out TensorView view)
    {
        if (_owner.TryGetValue(name, out var f)) return f.TryGet(name, out view);
        view = default;
        return false;
    }

    public long TotalBytes => _files.Sum(f => f.Tensors.Values.Sum(t => t.ByteLength));

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
