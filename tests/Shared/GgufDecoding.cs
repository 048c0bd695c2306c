using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

public static class GgufDecoding
{
    /// <summary>Every tensor of <paramref name="gguf"/> as F32 (blocks decoded) under its own name, as a safetensors file:
    /// the model a GGUF file must behave as.</summary>
    public static void WriteDecoded(string gguf, string target)
    {
        using var file = GgufFile.Open(gguf);
        var writer = new SafeTensorsWriter();
        foreach (var name in file.Names)
        {
            var view = file.Get(name);
            writer.AddFloat32(name, view.Shape, view.ToFloat32Array());
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(target))!);
        writer.Write(target);
    }
}
