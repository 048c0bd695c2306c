using System.Runtime.InteropServices;
using Flux2.Core.Numerics;

namespace Flux2.Core.SafeTensors;

/// <summary>A zero-copy view of one tensor inside a memory-mapped safetensors file.
/// Valid while the owning <see cref="SafeTensorsFile"/> is open.</summary>
public readonly unsafe struct TensorView
{
    public TensorInfo Info { get; }
    /// <summary>Address of the first byte of the tensor's data.</summary>
    public nint Data { get; }
    public string FilePath { get; }

    public TensorView(TensorInfo info, nint data, string filePath)
    {
        Info = info;
        Data = data;
        FilePath = filePath;
    }

    public string Name => Info.Name;
    public DType DType => Info.DType;
    public long[] Shape => Info.Shape;
    public long ElementCount => Info.ElementCount;
    public long ByteLength => Info.ByteLength;

    /// <summary>The raw elements as a span; only for tensors below 2^31 elements.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        long n = ByteLength / sizeof(T);
        if (n > int.MaxValue) throw new SafeTensorsException(FilePath, Name, $"{n} elements are too many for a span");
        return new ReadOnlySpan<T>((void*)Data, (int)n);
    }

    /// <summary>Copies the tensor's element values widened to fp32 (every dtype; an FP8 element is its own E4M3 / E5M2
    /// value, without any quantization scale the checkpoint may keep beside it).</summary>
    public float[] ToFloat32Array()
    {
        long n = ElementCount;
        if (n > Array.MaxLength) throw new SafeTensorsException(FilePath, Name, $"{n} elements are too many for an array");
        var result = new float[n];
        switch (DType)
        {
            case DType.Float32: AsSpan<float>().CopyTo(result); break;
            case DType.Float16: { var s = AsSpan<Half>(); for (int i = 0; i < s.Length; i++) result[i] = (float)s[i]; break; }
            case DType.BFloat16: { var s = AsSpan<ushort>(); for (int i = 0; i < s.Length; i++) result[i] = BFloat16Bits.ToFloat(s[i]); break; }
            case DType.Float64: { var s = AsSpan<double>(); for (int i = 0; i < s.Length; i++) result[i] = (float)s[i]; break; }
            case DType.Int64: { var s = AsSpan<long>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.Int32: { var s = AsSpan<int>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.Int16: { var s = AsSpan<short>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.Int8: { var s = AsSpan<sbyte>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.UInt8 or DType.Bool or DType.Float4E2M1x2: { var s = AsSpan<byte>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.Float8E4M3: { var s = AsSpan<byte>(); for (int i = 0; i < s.Length; i++) result[i] = E4M3.Decode(s[i]); break; }
            // E5M2 is the top byte of an IEEE half.
            case DType.Float8E5M2: { var s = AsSpan<byte>(); for (int i = 0; i < s.Length; i++) result[i] = (float)BitConverter.UInt16BitsToHalf((ushort)(s[i] << 8)); break; }
            default: throw new SafeTensorsException(FilePath, Name, $"cannot widen {DType.SafetensorsName()} to F32");
        }
        return result;
    }

    /// <summary>Copies an integer tensor widened to int64.</summary>
    public long[] ToInt64Array()
    {
        long n = ElementCount;
        if (n > Array.MaxLength) throw new SafeTensorsException(FilePath, Name, $"{n} elements are too many for an array");
        var result = new long[n];
        switch (DType)
        {
            case DType.Int64: AsSpan<long>().CopyTo(result); break;
            case DType.Int32: { var s = AsSpan<int>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.Int16: { var s = AsSpan<short>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.Int8: { var s = AsSpan<sbyte>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            case DType.UInt8 or DType.Bool: { var s = AsSpan<byte>(); for (int i = 0; i < s.Length; i++) result[i] = s[i]; break; }
            default: throw new SafeTensorsException(FilePath, Name, $"expected an integer tensor, found {DType.SafetensorsName()}");
        }
        return result;
    }

    /// <summary>Copies the raw bytes.</summary>
    public byte[] ToByteArray() => AsSpan<byte>().ToArray();
}
