namespace Flux2.Core.SafeTensors;

/// <summary>A safetensors file (or shard index) is malformed or does not hold what was asked for.
/// The message always names the file and, where one is involved, the tensor.</summary>
public sealed class SafeTensorsException : Flux2Exception
{
    public string FilePath { get; }
    public string? TensorName { get; }

    public SafeTensorsException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Format(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    private static string Format(string filePath, string? tensorName, string problem) =>
        tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}";
}
