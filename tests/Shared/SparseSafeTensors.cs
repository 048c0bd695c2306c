using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>
/// Writes safetensors files with a real header and a data section left as a hole (<see cref="FileStream.SetLength"/>),
/// so a checkpoint of real size (gigabytes) costs a few kilobytes of disk. Every tensor reads as zeros.
/// </summary>
public static class SparseSafeTensors
{
    public static void Write(string path, IEnumerable<(string Name, DType DType, long[] Shape)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = tensors.ToList();
        var header = SafeTensorsWriter.EncodeHeader(list, metadata ?? new Dictionary<string, string>());
        long data = list.Sum(t => t.Shape.Aggregate((long)t.DType.SizeInBytes(), (a, d) => checked(a * d)));
        using var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        fs.Write(BitConverter.GetBytes((ulong)header.Length));
        fs.Write(header);
        fs.SetLength(8 + header.Length + data);
    }

    /// <summary>Writes <paramref name="shards"/> files <c>{stem}-0000i-of-0000n.safetensors</c> and their
    /// <c>{stem}.safetensors.index.json</c> into <paramref name="directory"/>; returns the index path.</summary>
    public static string WriteSharded(string directory, string stem, IReadOnlyList<IReadOnlyList<(string Name, DType DType, long[] Shape)>> shards)
    {
        var map = new List<string>();
        long total = 0;
        for (int i = 0; i < shards.Count; i++)
        {
            var file = $"{stem}-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            Write(Path.Combine(directory, file), shards[i]);
            foreach (var t in shards[i])
            {
                map.Add($"\"{t.Name}\":\"{file}\"");
                total += t.Shape.Aggregate((long)t.DType.SizeInBytes(), (a, d) => a * d);
            }
        }
        var index = Path.Combine(directory, stem + ".safetensors.index.json");
        File.WriteAllText(index, $"{{\"metadata\":{{\"total_size\":{total}}},\"weight_map\":{{{string.Join(",", map)}}}}}");
        return index;
    }
}
