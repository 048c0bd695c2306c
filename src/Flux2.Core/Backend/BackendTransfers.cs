using System.Runtime.InteropServices;
using Flux2.Core.Numerics;

namespace Flux2.Core.Backend;

/// <summary>Typed forms of <see cref="IBackend.Upload"/> and <see cref="IBackend.Download"/>: the one way host values
/// enter a backend's tensors and results come back.</summary>
public static unsafe class BackendTransfers
{
    /// <summary>A new backend tensor holding <paramref name="values"/> (Float32, Int64 or UInt8 by the element type).</summary>
    public static Tensor Upload<T>(this IBackend backend, ReadOnlySpan<T> values, params int[] shape) where T : unmanaged
    {
        var t = backend.Allocate(ElementDType<T>(), shape);
        try
        {
            backend.Upload(values, t);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="values"/> into <paramref name="destination"/>, whose element type must match.</summary>
    public static void Upload<T>(this IBackend backend, ReadOnlySpan<T> values, Tensor destination) where T : unmanaged
    {
        if (ElementDType<T>() != destination.DType && !(typeof(T) == typeof(byte) && destination.DType.SizeInBytes() == 1))
            throw new ArgumentException($"{typeof(T).Name} values cannot fill a {destination.DType} tensor", nameof(destination));
        if (values.Length != destination.Length)
            throw new ArgumentException($"{values.Length} values do not fill {destination.DType} {destination.ShapeText}", nameof(values));
        backend.Upload(MemoryMarshal.AsBytes(values), destination);
    }

    /// <summary>A new backend tensor of <paramref name="dtype"/> (Float32, BFloat16 or Float16) holding <paramref name="values"/>
    /// rounded to that type on the host (round to nearest even).</summary>
    public static Tensor UploadAs(this IBackend backend, ReadOnlySpan<float> values, DType dtype, params int[] shape)
    {
        if (dtype == DType.Float32) return backend.Upload(values, shape);
        var narrow = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++)
            narrow[i] = dtype switch
            {
                DType.BFloat16 => BFloat16Bits.FromFloat(values[i]),
                DType.Float16 => BitConverter.HalfToUInt16Bits((Half)values[i]),
                _ => throw new ArgumentException($"cannot store floats as {dtype}", nameof(dtype)),
            };
        var t = backend.Allocate(dtype, shape);
        try
        {
            if (narrow.Length != t.Length) throw new ArgumentException($"{values.Length} values do not fill {dtype} {t.ShapeText}", nameof(values));
            backend.Upload(MemoryMarshal.AsBytes(narrow.AsSpan()), t);
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    /// <summary>The elements of <paramref name="source"/> after every op before this call, as an array of its element type.</summary>
    public static T[] Download<T>(this IBackend backend, Tensor source) where T : unmanaged
    {
        if (Marshal.SizeOf<T>() != source.DType.SizeInBytes())
            throw new ArgumentException($"a {source.DType} tensor cannot be read as {typeof(T).Name}", nameof(source));
        var values = new T[checked((int)source.Length)];
        backend.Download(source, MemoryMarshal.AsBytes(values.AsSpan()));
        return values;
    }

    /// <summary>The values of a Float32, BFloat16 or Float16 tensor widened to float.</summary>
    public static float[] DownloadFloat32(this IBackend backend, Tensor source)
    {
        switch (source.DType)
        {
            case DType.Float32:
                return backend.Download<float>(source);
            case DType.BFloat16:
                return Array.ConvertAll(backend.Download<ushort>(source), BFloat16Bits.ToFloat);
            case DType.Float16:
                return Array.ConvertAll(backend.Download<Half>(source), h => (float)h);
            default:
                throw new ArgumentException($"a {source.DType} tensor has no float values", nameof(source));
        }
    }

    /// <summary>A host copy of <paramref name="source"/> (same type and shape), e.g. to write it to a file.</summary>
    public static Tensor DownloadToHost(this IBackend backend, Tensor source)
    {
        var host = Tensor.Zeros(source.DType, source.Shape);
        try
        {
            backend.Download(source, new Span<byte>((void*)host.Data, checked((int)host.ByteLength)));
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }

    private static DType ElementDType<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? DType.Float32
        : typeof(T) == typeof(long) ? DType.Int64
        : typeof(T) == typeof(byte) ? DType.UInt8
        : typeof(T) == typeof(ushort) ? DType.BFloat16
        : typeof(T) == typeof(Half) ? DType.Float16
        : typeof(T) == typeof(int) ? DType.Int32
        : throw new ArgumentException($"no tensor element type for {typeof(T).Name}");
}
