using System.Text;
using System.Text.Json;

namespace Flux2.Core.SafeTensors;

/// <summary>
/// Builds a safetensors file: tensors are added as raw little-endian bytes, or declared with a callback that produces
/// their bytes while the file is written (so a file larger than memory can be built one tensor at a time).
/// The file appears atomically (written to a temporary name, then moved), so a failure never leaves a
/// partial file under the requested name.
/// </summary>
public sealed class SafeTensorsWriter
{
    private sealed record Entry(string Name, DType DType, long[] Shape, long ByteLength, Action<Stream> WriteData);

    private readonly List<Entry> _tensors = [];
    private readonly Dictionary<string, string> _metadata = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    public IDictionary<string, string> Metadata => _metadata;

    public void Add(string name, DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> data)
    {
        long expected = ByteLength(name, dtype, shape);
        if (expected != data.Length)
            throw new ArgumentException($"tensor '{name}': shape needs {expected} bytes, got {data.Length}", nameof(data));
        var copy = data.ToArray();
        AddEntry(name, dtype, shape, expected, stream => stream.Write(copy));
    }

    public void Add<T>(string name, DType dtype, ReadOnlySpan<long> shape, ReadOnlySpan<T> values) where T : unmanaged =>
        Add(name, dtype, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));

    public void AddFloat32(string name, ReadOnlySpan<long> shape, ReadOnlySpan<float> values) => Add(name, DType.Float32, shape, values);

    public void AddInt64(string name, ReadOnlySpan<long> shape, ReadOnlySpan<long> values) => Add(name, DType.Int64, shape, values);

    /// <summary>
    /// Declares a tensor whose bytes <paramref name="writeData"/> produces during <see cref="Write"/>, in the order tensors
    /// were added: it must write exactly the bytes <paramref name="shape"/> needs to the stream it is given, else
    /// <see cref="Write"/> fails (and leaves no file).
    /// </summary>
    public void AddDeferred(string name, DType dtype, ReadOnlySpan<long> shape, Action<Stream> writeData) =>
        AddEntry(name, dtype, shape, ByteLength(name, dtype, shape), writeData);

    private void AddEntry(string name, DType dtype, ReadOnlySpan<long> shape, long byteLength, Action<Stream> writeData)
    {
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' was already added", nameof(name));
        _tensors.Add(new Entry(name, dtype, shape.ToArray(), byteLength, writeData));
    }

    private static long ByteLength(string name, DType dtype, ReadOnlySpan<long> shape)
    {
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved", nameof(name));
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension {d}", nameof(shape));
            count = checked(count * d);
        }
        return checked(count * dtype.SizeInBytes());
    }

    /// <summary>The header bytes (JSON padded with spaces to a multiple of 8) for the tensors added so far.</summary>
    public byte[] BuildHeader() => EncodeHeader(_tensors.Select(t => (t.Name, t.DType, t.Shape)), _metadata);

    /// <summary>
    /// The header of a file whose tensors follow each other in the given order, each taking exactly the bytes its
    /// shape needs: the JSON padded with spaces to a multiple of 8. Lets a caller lay out a file without holding
    /// its data (e.g. to stream it, or to make a sparse file of a real checkpoint's size).
    /// </summary>
    public static byte[] EncodeHeader(IEnumerable<(string Name, DType DType, long[] Shape)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            if (metadata.Count > 0)
            {
                w.WriteStartObject("__metadata__");
                foreach (var (k, v) in metadata) w.WriteString(k, v);
                w.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, dtype, shape) in tensors)
            {
                long bytes = dtype.SizeInBytes();
                foreach (var d in shape) bytes = checked(bytes * d);
                w.WriteStartObject(name);
                w.WriteString("dtype", dtype.SafetensorsName());
                w.WriteStartArray("shape");
                foreach (var d in shape) w.WriteNumberValue(d);
                w.WriteEndArray();
                w.WriteStartArray("data_offsets");
                w.WriteNumberValue(offset);
                w.WriteNumberValue(offset + bytes);
                w.WriteEndArray();
                w.WriteEndObject();
                offset += bytes;
            }
            w.WriteEndObject();
        }
        var json = ms.ToArray();
        int padded = (json.Length + 7) / 8 * 8;
        var header = new byte[padded];
        json.CopyTo(header, 0);
        header.AsSpan(json.Length).Fill((byte)' ');
        return header;
    }

    /// <summary>Writes the file; a deferred tensor writing the wrong number of bytes is an <see cref="InvalidOperationException"/>.</summary>
    public void Write(string path)
    {
        var header = BuildHeader();
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var temp = Path.Combine(dir, "." + Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                fs.Write(BitConverter.GetBytes((ulong)header.Length));
                fs.Write(header);
                foreach (var t in _tensors)
                {
                    long start = fs.Position;
                    t.WriteData(fs);
                    long written = fs.Position - start;
                    if (written != t.ByteLength)
                        throw new InvalidOperationException($"tensor '{t.Name}': {written} bytes were written, its shape needs {t.ByteLength}");
                }
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
