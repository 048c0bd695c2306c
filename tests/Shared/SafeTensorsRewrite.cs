using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>Copies a safetensors file with some tensors renamed, retyped, reshaped, dropped or added: broken
/// checkpoints made from the golden ones.</summary>
public static class SafeTensorsRewrite
{
    /// <summary>Copies <paramref name="source"/> to <paramref name="target"/>, letting <paramref name="edit"/> rename,
    /// retype, reshape or drop (null) each tensor, and add tensors at the end.</summary>
    public static void Rewrite(string source, string target,
        Func<TensorView, (string Name, DType DType, long[] Shape, byte[] Data)?> edit,
        IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)>? add = null,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        using var file = SafeTensorsFile.Open(source);
        var w = new SafeTensorsWriter();
        foreach (var (k, v) in metadata ?? file.Metadata) w.Metadata[k] = v;
        foreach (var name in file.Names)
            if (edit(file.Get(name)) is { } t) w.Add(t.Name, t.DType, t.Shape, t.Data);
        foreach (var t in add ?? []) w.Add(t.Name, t.DType, t.Shape, t.Data);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        w.Write(target);
    }

    public static (string, DType, long[], byte[])? Keep(TensorView v) => (v.Name, v.DType, v.Shape, v.ToByteArray());

    /// <summary>A copy without the tensor <paramref name="name"/>.</summary>
    public static void Without(string source, string target, string name) =>
        Rewrite(source, target, v => v.Name == name ? null : Keep(v));
}
