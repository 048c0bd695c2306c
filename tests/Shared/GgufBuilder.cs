using System.Text;
using Flux2.Core.Gguf;

namespace Flux2.Tests;

/// <summary>Writes GGUF files for tests: metadata values of every GGUF type, tensors of any ggml type number with their
/// bytes, the offsets GGUF's layout gives them (or any other), and the version and magic as given.</summary>
public sealed class GgufBuilder
{
    private readonly List<(string Key, object Value)> _values = [];
    private readonly List<(string Name, int Type, long[] Ne, byte[] Data, ulong? Offset)> _tensors = [];

    public uint Magic { get; set; } = 0x46554747;
    public uint Version { get; set; } = 3;
    public int Alignment { get; set; } = 32;

    /// <summary>A value of the GGUF type of its CLR type (byte → UINT8 … double → FLOAT64, T[] → ARRAY of T).</summary>
    public GgufBuilder Value(string key, object value)
    {
        _values.Add((key, value));
        return this;
    }

    /// <summary>Removes every value of <paramref name="key"/>.</summary>
    public GgufBuilder Without(string key)
    {
        _values.RemoveAll(v => v.Key == key);
        return this;
    }

    /// <param name="ne">ggml's dimensions, fastest first</param>
    /// <param name="offset">where the data goes in the data section; by default after the previous tensor, aligned</param>
    public GgufBuilder Tensor(string name, GgmlType type, long[] ne, byte[] data, ulong? offset = null)
    {
        _tensors.Add((name, (int)type, ne, data, offset));
        return this;
    }

    /// <summary>Every value and tensor of <paramref name="file"/> (blocks as stored), but those <paramref name="keep"/> refuses.</summary>
    public static GgufBuilder CopyOf(GgufFile file, Func<string, bool>? keep = null)
    {
        var builder = new GgufBuilder();
        foreach (var (key, value) in file.Values) builder.Value(key, value);
        foreach (var name in file.Names.Where(n => keep?.Invoke(n) != false))
        {
            var info = file.Tensors[name];
            var type = info.StoredType ?? PlainType(info.DType);
            builder.Tensor(name, type, info.Shape.Reverse().ToArray(), file.GetStored(name).ToByteArray());
        }
        return builder;
    }

    /// <summary>The ggml type of a plain tensor's dtype (F32, F16, BF16).</summary>
    public static GgmlType PlainType(Flux2.Core.DType dtype) => dtype switch
    {
        Flux2.Core.DType.Float32 => GgmlType.F32,
        Flux2.Core.DType.Float16 => GgmlType.F16,
        Flux2.Core.DType.BFloat16 => GgmlType.BF16,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype)),
    };

    public byte[] Build()
    {
        using var stream = new MemoryStream();
        var w = new BinaryWriter(stream);
        w.Write(Magic);
        w.Write(Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_values.Count);
        foreach (var (key, value) in _values)
        {
            WriteString(w, key);
            WriteValue(w, value);
        }
        ulong next = 0;
        var offsets = new List<ulong>();
        foreach (var t in _tensors)
        {
            ulong offset = t.Offset ?? next;
            offsets.Add(offset);
            next = Align(Math.Max(next, offset + (ulong)t.Data.Length));
            WriteString(w, t.Name);
            w.Write((uint)t.Ne.Length);
            foreach (var d in t.Ne) w.Write(d);
            w.Write(t.Type);
            w.Write(offset);
        }
        w.Write(new byte[Align((ulong)stream.Position) - (ulong)stream.Position]);
        long dataStart = stream.Position;
        for (int i = 0; i < _tensors.Count; i++)
        {
            stream.Position = dataStart + (long)offsets[i];
            w.Write(_tensors[i].Data);
        }
        if (_tensors.Count > 0) stream.SetLength(dataStart + (long)next);
        return stream.ToArray();
    }

    public void Write(string path) => File.WriteAllBytes(path, Build());

    private ulong Align(ulong position) => (position + (ulong)Alignment - 1) / (ulong)Alignment * (ulong)Alignment;

    private static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    private static int TypeOf(Type type) => type switch
    {
        _ when type == typeof(byte) => 0,
        _ when type == typeof(sbyte) => 1,
        _ when type == typeof(ushort) => 2,
        _ when type == typeof(short) => 3,
        _ when type == typeof(uint) => 4,
        _ when type == typeof(int) => 5,
        _ when type == typeof(float) => 6,
        _ when type == typeof(bool) => 7,
        _ when type == typeof(string) => 8,
        _ when type.IsArray => 9,
        _ when type == typeof(ulong) => 10,
        _ when type == typeof(long) => 11,
        _ when type == typeof(double) => 12,
        _ => throw new ArgumentException($"no GGUF type for {type}"),
    };

    private static void WriteValue(BinaryWriter w, object value)
    {
        w.Write(TypeOf(value.GetType()));
        WriteScalar(w, value);
    }

    private static void WriteScalar(BinaryWriter w, object value)
    {
        switch (value)
        {
            case byte v: w.Write(v); break;
            case sbyte v: w.Write(v); break;
            case ushort v: w.Write(v); break;
            case short v: w.Write(v); break;
            case uint v: w.Write(v); break;
            case int v: w.Write(v); break;
            case float v: w.Write(v); break;
            case bool v: w.Write(v); break;
            case string v: WriteString(w, v); break;
            case ulong v: w.Write(v); break;
            case long v: w.Write(v); break;
            case double v: w.Write(v); break;
            case Array array:
                w.Write(TypeOf(array.GetType().GetElementType()!));
                w.Write((ulong)array.Length);
                foreach (var item in array) WriteScalar(w, item!);
                break;
            default: throw new ArgumentException($"no GGUF scalar for {value.GetType()}");
        }
    }
}
