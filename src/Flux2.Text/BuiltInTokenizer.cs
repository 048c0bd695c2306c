using System.Formats.Tar;
using System.IO.Compression;

namespace Flux2.Text;

/// <summary>
/// The Qwen3 tokenizer built into the tool (Tokenizers/qwen3.tar.br: the real tokenizer.json and tokenizer_config.json,
/// Brotli-packed to 1.5 MB), for a Qwen3 text encoder given as a single file without its tokenizer folder, as ComfyUI and
/// stable-diffusion.cpp distribute them. There is none for Mistral: no real Mistral tokenizer file ships with this tool.
/// </summary>
public static class BuiltInTokenizer
{
    /// <summary>How messages name it.</summary>
    public const string Qwen3Source = "the built-in Qwen3 tokenizer";

    private const string ResourceName = "Flux2.Text.qwen3.tar.br";

    public static PromptTokenizer Qwen3(PromptTemplate template)
    {
        var files = ReadArchive();
        var tokenizer = HuggingFaceTokenizerJson.Load(Qwen3Source + " (tokenizer.json)", files["tokenizer.json"]);
        return PromptTokenizer.Create(tokenizer, template, Qwen3Source + " (tokenizer_config.json)", files["tokenizer_config.json"]);
    }

    /// <summary>Writes the built-in tokenizer's files into <paramref name="folder"/> (created when missing), as a diffusers
    /// repository's tokenizer/ folder holds them.</summary>
    public static void WriteQwen3(string folder)
    {
        Directory.CreateDirectory(folder);
        foreach (var (name, bytes) in ReadArchive()) File.WriteAllBytes(Path.Combine(folder, name), bytes);
    }

    private static Dictionary<string, byte[]> ReadArchive()
    {
        using var resource = typeof(BuiltInTokenizer).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing from the build");
        using var tar = new TarReader(new BrotliStream(resource, CompressionMode.Decompress));
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.DataStream == null) continue;
            var bytes = new MemoryStream();
            entry.DataStream.CopyTo(bytes);
            files[entry.Name] = bytes.ToArray();
        }
        return files;
    }
}
