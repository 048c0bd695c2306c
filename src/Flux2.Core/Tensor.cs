using System.Runtime.InteropServices;

namespace Flux2.Core;

/// <summary>
/// A dense row-major tensor in native memory (64-byte aligned), used for activations.
/// A tensor either owns its buffer or is a view of another tensor's buffer (<see cref="Reshape"/>,
/// <see cref="Slice0"/>); views must not outlive their owner.
/// </summary>
public sealed unsafe class Tensor : IDisposable
{
    private nint _data;
    private readonly bool _owns;

    public DType DType { get; }
    public int[] Shape { get; }
    public long Length { get; }
    public DeviceRef Device => DeviceRef.Cpu();

    public nint Data => _data != 0 || Length == 0 ? _data : throw new ObjectDisposedException(nameof(Tensor));
    public int Rank => Shape.Length;

    private Tensor(DType dtype, int[] shape, nint data, bool owns)
    {
        DType = dtype;
        Shape = shape;
        Length = CountElements(shape);
        _data = data;
        _owns = owns;
    }

    public static Tensor Zeros(DType dtype, params int[] shape)
    {
        long n = CountElements(shape);
        nuint bytes = (nuint)Math.Max(1, n * dtype.SizeInBytes());
        var p = NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(p, bytes);
        return new Tensor(dtype, (int[])shape.Clone(), (nint)p, owns: true);
    }

    public static Tensor Zeros(params int[] shape) => Zeros(DType.Float32, shape);

    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = Zeros(DType.Float32, shape);
        if (values.Length != t.Length) throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(", ", shape)}]");
        values.CopyTo(t.AsSpan<float>());
        return t;
    }

    public static Tensor FromArray(ReadOnlySpan<long> values, params int[] shape)
    {
        var t = Zeros(DType.Int64, shape);
        if (values.Length != t.Length) throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(", ", shape)}]");
        values.CopyTo(t.AsSpan<long>());
        return t;
    }

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
        return new Tensor(DType, (int[])shape.Clone(), Data, owns: false);
    }

    /// <summary>A view of rows [start, start + count) along the first dimension.</summary>
    public Tensor Slice0(int start, int count)
    {
        if (Rank == 0 || start < 0 || count < 0 || start + count > Shape[0])
            throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside [0, {(Rank == 0 ? 0 : Shape[0])})");
        long rowElements = Shape[0] == 0 ? 0 : Length / Shape[0];
        var shape = (int[])Shape.Clone();
        shape[0] = count;
        return new Tensor(DType, shape, Data + (nint)(start * rowElements * DType.SizeInBytes()), owns: false);
    }

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    public void Dispose()
    {
        if (_owns && _data != 0) NativeMemory.AlignedFree((void*)_data);
        _data = 0;
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
