namespace Flux2.Core;

/// <summary>
/// A dense row-major tensor: a shape and an element type over a byte range of a <see cref="TensorStorage"/> that some
/// backend allocated. A tensor either owns its storage (<see cref="Zeros(DType, int[])"/>, <see cref="Create"/>, every
/// backend allocation) or is a view of another tensor's storage (<see cref="Reshape"/>, <see cref="Slice0"/>); views must
/// not outlive their owner. Host access (<see cref="Data"/>, <see cref="AsSpan{T}"/>) exists only for host storage;
/// a backend's tensors are read through the backend's download.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private readonly bool _owns;

    public DType DType { get; }
    public int[] Shape { get; }
    public long Length { get; }
    public TensorStorage Storage { get; }
    /// <summary>Where the first element lies inside <see cref="Storage"/>.</summary>
    public long ByteOffset { get; }

    public DeviceRef Device => Storage.Device;
    public int Rank => Shape.Length;
    public long ByteLength => Length * DType.SizeInBytes();
    public bool IsHostAccessible => Storage.IsHostAccessible;

    private Tensor(TensorStorage storage, long byteOffset, DType dtype, int[] shape, bool owns)
    {
        DType = dtype;
        Shape = shape;
        Length = CountElements(shape);
        Storage = storage;
        ByteOffset = byteOffset;
        _owns = owns;
        if (byteOffset < 0 || byteOffset + ByteLength > storage.Bytes)
            throw new ArgumentException($"{dtype} [{string.Join(", ", shape)}] at byte {byteOffset} does not fit in a storage of {storage.Bytes} bytes");
    }

    /// <summary>A tensor that owns <paramref name="storage"/> (disposing the tensor frees it): how backends hand out memory.</summary>
    public static Tensor Create(TensorStorage storage, DType dtype, params int[] shape) =>
        new(storage, 0, dtype, (int[])shape.Clone(), owns: true);

    /// <summary>A view of <paramref name="storage"/> that does not own it (a backend's view of memory it keeps elsewhere).</summary>
    public static Tensor View(TensorStorage storage, long byteOffset, DType dtype, params int[] shape) =>
        new(storage, byteOffset, dtype, (int[])shape.Clone(), owns: false);

    /// <summary>Bytes a tensor of this type and shape occupies.</summary>
    public static long BytesFor(DType dtype, int[] shape) => CountElements(shape) * dtype.SizeInBytes();

    /// <summary>A zero-filled host tensor (inputs and outputs on the host side; backends allocate their own).</summary>
    public static Tensor Zeros(DType dtype, params int[] shape) => Create(new HostStorage(BytesFor(dtype, shape)), dtype, shape);

    public static Tensor Zeros(params int[] shape) => Zeros(DType.Float32, shape);

    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape) => FromSpan(values, DType.Float32, shape);

    public static Tensor FromArray(ReadOnlySpan<long> values, params int[] shape) => FromSpan(values, DType.Int64, shape);

    public static Tensor FromArray(ReadOnlySpan<byte> values, params int[] shape) => FromSpan(values, DType.UInt8, shape);

    private static Tensor FromSpan<T>(ReadOnlySpan<T> values, DType dtype, int[] shape) where T : unmanaged
    {
        var t = Zeros(dtype, shape);
        if (values.Length != t.Length)
        {
            t.Dispose();
            throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(", ", shape)}]");
        }
        values.CopyTo(t.AsSpan<T>());
        return t;
    }

    /// <summary>Host address of the first element; only for host storage.</summary>
    public nint Data => IsHostAccessible
        ? Storage.HostAddress + (nint)ByteOffset
        : throw new InvalidOperationException($"tensor {DType} {ShapeText} lives on {Device}, which the host cannot read; download it through its backend");

    public Span<T> AsSpan<T>() where T : unmanaged
    {
        if (sizeof(T) != DType.SizeInBytes()) throw new InvalidOperationException($"tensor of {DType} viewed as {typeof(T).Name}");
        if (Length > int.MaxValue) throw new InvalidOperationException($"{Length} elements are too many for a span");
        return new Span<T>((void*)Data, (int)Length);
    }

    public float* Float32Pointer => DType == DType.Float32 ? (float*)Data : throw new InvalidOperationException($"tensor is {DType}, not Float32");

    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>A view with another shape over the same elements.</summary>
    public Tensor Reshape(params int[] shape)
    {
        if (CountElements(shape) != Length)
            throw new ArgumentException($"cannot reshape [{string.Join(", ", Shape)}] to [{string.Join(", ", shape)}]");
        return new Tensor(Storage, ByteOffset, DType, (int[])shape.Clone(), owns: false);
    }

    /// <summary>A view of rows [start, start + count) along the first dimension.</summary>
    public Tensor Slice0(int start, int count)
    {
        if (Rank == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside [0, {(Rank == 0 ? 0 : Shape[0])})");
        long rowElements = Shape[0] == 0 ? 0 : Length / Shape[0];
        var shape = (int[])Shape.Clone();
        shape[0] = count;
        return new Tensor(Storage, ByteOffset + start * rowElements * DType.SizeInBytes(), DType, shape, owns: false);
    }

    /// <summary>A view of rows [start, start + count) of batch element <paramref name="b"/> of a [B, L, C] tensor, as [1, count, C].</summary>
    public Tensor SliceRows(int b, int start, int count)
    {
        if (Rank != 3) throw new ArgumentException($"rows of a batch element need a [B, L, C] tensor, not {ShapeText}");
        return Slice0(b, 1).Reshape(Shape[1], Shape[2]).Slice0(start, count).Reshape(1, count, Shape[2]);
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    public void Dispose()
    {
        if (_owns) Storage.Dispose();
    }

    private static long CountElements(int[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in [{string.Join(", ", shape)}]");
            n = checked(n * d);
        }
        return n;
    }
}
