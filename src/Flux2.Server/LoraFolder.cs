using Flux2.Models.Lora;

namespace Flux2.Server;

/// <summary>
/// The LoRAs clients may ask for by name (<c>serve --lora-dir</c>): the .safetensors files of one folder, each named by its
/// file name without the extension. Names are plain (see <see cref="RequestedLora"/>), so no request reaches outside the
/// folder; files are looked up when a request names them, so LoRAs added while the server runs are found.
/// </summary>
public sealed class LoraFolder
{
    private const string Extension = ".safetensors";

    /// <summary>Most names an error lists.</summary>
    private const int ListedNames = 20;

    public string Path { get; }

    /// <exception cref="ServerStartException">the folder does not exist</exception>
    public LoraFolder(string path)
    {
        if (!Directory.Exists(path)) throw new ServerStartException($"LoRA folder {path}: not found (or not a folder)");
        Path = System.IO.Path.GetFullPath(path);
    }

    /// <summary>The files of <paramref name="loras"/>, in their order.</summary>
    /// <exception cref="RequestException">a name has no file in the folder (400, listing the names there are)</exception>
    public IReadOnlyList<LoraFile> Resolve(IReadOnlyList<RequestedLora> loras, string param) =>
        loras.Select(lora =>
        {
            var file = System.IO.Path.Combine(Path, lora.Name + Extension);
            return File.Exists(file) ? new LoraFile(file, lora.Scale)
                : throw RequestException.BadField(param, $"no LoRA named '{lora.Name}' here; {Available()}");
        }).ToArray();

    private string Available()
    {
        var names = Directory.EnumerateFiles(Path, "*" + Extension)
            .Select(f => System.IO.Path.GetFileNameWithoutExtension(f))
            .Order(StringComparer.Ordinal)
            .Take(ListedNames + 1)
            .ToList();
        return names.Count == 0 ? "the server's LoRA folder holds none"
            : "the server has " + string.Join(", ", names.Take(ListedNames).Select(n => $"'{n}'")) + (names.Count > ListedNames ? ", ..." : "");
    }
}
