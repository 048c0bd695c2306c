namespace Flux2.Core.Gguf;

/// <summary>A GGUF file is malformed or holds what this library does not read. The message names the file and, where one
/// is involved, the tensor or metadata key.</summary>
public sealed class GgufException(string filePath, string? item, string problem, Exception? inner = null)
    : Flux2Exception(item is null ? $"{filePath}: {problem}" : $"{filePath}: {item}: {problem}", inner)
{
    public string FilePath { get; } = filePath;
}
