namespace Flux2.Core.SafeTensors;

/// <summary>One header entry of a safetensors file: the tensor's dtype, shape and byte range within the data section.</summary>
public sealed record TensorInfo(string Name, DType DType, long[] Shape, long DataBegin, long DataEnd)
{
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
