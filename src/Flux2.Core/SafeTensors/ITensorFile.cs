namespace Flux2.Core.SafeTensors;

/// <summary>One memory-mapped weights file a checkpoint is made of: a safetensors file or a GGUF file.</summary>
public interface ITensorFile : IDisposable
{
    string FilePath { get; }
    IReadOnlyDictionary<string, string> Metadata { get; }
    IReadOnlyDictionary<string, TensorInfo> Tensors { get; }
    /// <summary>Tensor names in the file's order.</summary>
    IReadOnlyList<string> Names { get; }
    bool Contains(string name);
    /// <summary>The tensor's values (a block-quantized GGUF tensor's decoded to F32).</summary>
    TensorView Get(string name);
    bool TryGet(string name, out TensorView view);
    /// <summary>The tensor's bytes as stored: the same as <see cref="Get"/> except for a block-quantized GGUF tensor, whose
    /// blocks it gives (<see cref="TensorInfo.StoredType"/>).</summary>
    TensorView GetStored(string name);
}
