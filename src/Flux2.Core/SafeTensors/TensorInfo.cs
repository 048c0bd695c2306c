using Flux2.Core.Gguf;

namespace Flux2.Core.SafeTensors;

/// <summary>One header entry of a weights file: the tensor's dtype, shape and byte range within the data section.</summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long DataBegin, long DataEnd)
{
    /// <summary>The ggml block type a GGUF tensor's values are stored in (its <see cref="DType"/> is then Float32, the values'
    /// type once decoded); null when the bytes are <see cref="DType"/> elements.</summary>
    public GgmlType? StoredType { get; init; }

    /// <summary>The stored element type's name: the safetensors dtype, or the ggml block type ("Q4_K").</summary>
    public string StoredTypeName => StoredType is { } t ? GgmlTypeInfo.Name(t) : DType.SafetensorsName();

    public long ByteLength => DataEnd - DataBegin;

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}
