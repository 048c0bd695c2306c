using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text;
using Flux2.Core.Decoding;
using Flux2.Core.Files;
using Flux2.Core.SafeTensors;

namespace Flux2.Core.Gguf;

/// <summary>
/// A memory-mapped GGUF file (ggml's format, versions 2 and 3: the one llama.cpp, ComfyUI-GGUF and stable-diffusion.cpp
/// write). The header is read and checked completely at open: metadata key/values, tensor names, shapes, types and
/// offsets, each tensor's bytes inside the data section. Shapes are given in PyTorch's order (GGUF lists ne[0], the
/// fastest dimension, first), or as ComfyUI-GGUF's <c>comfy.gguf.orig_shape.NAME</c> key says. Plain tensors (F32, F16,
/// BF16, integers) are views into the mapping; block-quantized ones (Q4_0 … Q6_K) keep their blocks for
/// <see cref="GetStored"/> (a Linear weight decoded inside the GEMM) and are decoded to F32 once by <see cref="Get"/>.
/// A language model in llama.cpp's layout is given under its transformers names (<see cref="LlamaCppLanguageModel"/>).
/// </summary>
public sealed unsafe class GgufFile : ITensorFile
{
    /// <summary>ggml's limit on dimensions per tensor.</summary>
    public const int MaxRank = 4;
    private const uint Magic = 0x46554747; // "GGUF" little-endian
    private const int DefaultAlignment = 32;
    private const string OrigShapePrefix = "comfy.gguf.orig_shape.";
    /// <summary>Longest string value read (names and keys are tens of bytes, a chat template a few kilobytes).</summary>
    private const int MaxStringBytes = 1 << 26;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private byte* _base;
    private readonly Dictionary<string, TensorInfo> _tensors;
    private readonly Dictionary<string, nint> _decoded = new(StringComparer.Ordinal);
    /// <summary>Tensors whose rows llama.cpp's converter permuted, with their head counts, and their rows in transformers'
    /// order once copied (<see cref="LlamaCppLanguageModel"/>).</summary>
    private readonly Dictionary<string, int> _permutedHeads;
    private readonly Dictionary<string, nint> _unpermuted = new(StringComparer.Ordinal);

    public string FilePath { get; }
    public uint Version { get; }
    /// <summary>Every metadata value, typed: byte, sbyte, ushort, short, uint, int, ulong, long, float, double, bool, string,
    /// or an array of one of those.</summary>
    public IReadOnlyDictionary<string, object> Values { get; }
    /// <summary>The scalar and string values as text (invariant culture); arrays are only in <see cref="Values"/>.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;
    public IReadOnlyList<string> Names { get; }
    /// <summary>Absolute file offset of the data section.</summary>
    public long DataStart { get; }
    /// <summary>A language model in llama.cpp's layout, whose tensors go by their transformers names (<see cref="LlamaCppLanguageModel"/>).</summary>
    public bool IsLlamaCppLanguageModel { get; }
    /// <summary>Whether the file carries a tokenizer in llama.cpp's <c>tokenizer.ggml.*</c> metadata.</summary>
    public bool HasTokenizer => Values.ContainsKey("tokenizer.ggml.tokens");
    /// <summary><c>general.architecture</c>, when present.</summary>
    public string? Architecture => Values.TryGetValue("general.architecture", out var a) ? a as string : null;

    private GgufFile(string path, uint version, Dictionary<string, object> values, Dictionary<string, TensorInfo> tensors, List<string> names,
        Dictionary<string, int>? permutedHeads, long dataStart, MemoryMappedFile map, MemoryMappedViewAccessor view, byte* mapped)
    {
        IsLlamaCppLanguageModel = permutedHeads != null;
        _permutedHeads = permutedHeads ?? new(StringComparer.Ordinal);
        FilePath = path;
        Version = version;
        Values = values;
        Metadata = values.Where(v => v.Value is not Array)
            .ToDictionary(v => v.Key, v => Convert.ToString(v.Value, System.Globalization.CultureInfo.InvariantCulture)!, StringComparer.Ordinal);
        _tensors = tensors;
        Names = names;
        DataStart = dataStart;
        _map = map;
        _view = view;
        _base = mapped;
    }

    /// <summary>Whether <paramref name="path"/> is a regular file that starts with GGUF's magic bytes (a FIFO or device is never
    /// opened: whoever reads the path next reports it).</summary>
    public static bool HasMagic(string path)
    {
        try
        {
            RegularFile.Require(path, problem => new IOException(problem));
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            Span<byte> magic = stackalloc byte[4];
            return stream.Read(magic) == 4 && BitConverter.ToUInt32(magic) == Magic;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public static GgufFile Open(string path)
    {
        RegularFile.Require(path, problem => new GgufException(path, null, problem));
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        byte* mapped = null;
        try
        {
            long length = new FileInfo(path).Length;
            if (length < 24) throw new GgufException(path, null, $"file is {length} bytes, too short for a GGUF header (24 bytes)");
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref mapped);
            mapped += view.PointerOffset;
            var reader = new Reader(path, mapped, length);
            var (version, values, tensors, names, dataStart) = ReadHeader(path, ref reader, length);
            Dictionary<string, int>? permutedHeads = null;
            if (LlamaCppLanguageModel.IsLayout(values, tensors.Keys))
            {
                (tensors, names) = TransformersNames(path, tensors, names);
                permutedHeads = LlamaCppLanguageModel.PermutedHeads(path, values, tensors);
            }
            return new GgufFile(path, version, values, tensors, names, permutedHeads, dataStart, map, view, mapped);
        }
        catch (Exception e)
        {
            if (mapped != null) view!.SafeMemoryMappedViewHandle.ReleasePointer();
            view?.Dispose();
            map?.Dispose();
            if (e is IOException or UnauthorizedAccessException)
                throw new GgufException(path, null, "cannot read or memory-map the file: " + e.Message, e);
            throw;
        }
    }

    private static (uint, Dictionary<string, object>, Dictionary<string, TensorInfo>, List<string>, long) ReadHeader(
        string path, ref Reader reader, long length)
    {
        uint magic = reader.U32("the magic");
        if (magic != Magic) throw new GgufException(path, null, $"does not start with the GGUF magic (found 0x{magic:X8})");
        uint version = reader.U32("the version");
        if (version is 2 or 3) { }
        else if (BitConverter.IsLittleEndian && (version & 0xFFFF) == 0 && version != 0)
            throw new GgufException(path, null, "is a big-endian GGUF file; only little-endian files are read");
        else throw new GgufException(path, null, $"GGUF version {version} is not read (versions 2 and 3 are)");
        // Every tensor info takes at least 24 bytes and every key/value 13, so counts beyond those bounds cannot be honest.
        long tensorCount = reader.Count("the tensor count", 24);
        long valueCount = reader.Count("the metadata count", 13);

        var values = new Dictionary<string, object>(StringComparer.Ordinal);
        for (long i = 0; i < valueCount; i++)
        {
            string key = reader.String("a metadata key");
            if (key.Length == 0) throw new GgufException(path, $"metadata entry {i}", "has an empty key");
            var value = reader.Value(key);
            if (!values.TryAdd(key, value)) throw new GgufException(path, $"metadata '{key}'", "appears twice");
        }
        int alignment = DefaultAlignment;
        if (values.TryGetValue("general.alignment", out var a))
        {
            if (a is not uint align || align == 0 || (align & (align - 1)) != 0 || align > 1 << 20)
                throw new GgufException(path, "metadata 'general.alignment'", $"must be a power of two (uint32) up to 2^20, found {a}");
            alignment = (int)align;
        }

        var entries = new List<(string Name, long[] Ne, GgmlType Type, ulong Offset)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            string name = reader.String("a tensor name");
            if (!seen.Add(name)) throw new GgufException(path, $"tensor '{name}'", "appears twice");
            uint rank = reader.U32("a tensor's rank");
            if (rank is 0 or > MaxRank) throw new GgufException(path, $"tensor '{name}'", $"has {rank} dimensions; GGUF allows 1 to {MaxRank}");
            var ne = new long[rank];
            for (int d = 0; d < rank; d++)
            {
                ne[d] = reader.I64("a tensor dimension");
                if (ne[d] < 0) throw new GgufException(path, $"tensor '{name}'", $"dimension {d} is {ne[d]}");
            }
            var type = (GgmlType)reader.I32("a tensor type");
            ulong offset = reader.U64("a tensor offset");
            entries.Add((name, ne, type, offset));
        }
        long dataStart = (reader.Position + alignment - 1) / alignment * alignment;
        if (tensorCount > 0 && dataStart > length)
            throw new GgufException(path, null, $"the data section would start at byte {dataStart}, past the end of the {length}-byte file");

        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach (var (name, ne, type, offset) in entries)
        {
            var info = Describe(path, name, ne, type, offset, alignment, length - dataStart, values);
            tensors.Add(name, info);
            names.Add(name);
        }
        RefuseOverlaps(path, tensors.Values);
        return (version, values, tensors, names, dataStart);
    }

    private static TensorInfo Describe(string path, string name, long[] ne, GgmlType type, ulong offset, int alignment, long dataLength,
        Dictionary<string, object> values)
    {
        string item = $"tensor '{name}'";
        if (!GgmlTypeInfo.TryGetLayout(type, out int blockElements, out int blockBytes))
            throw new GgufException(path, item,
                $"is stored as {GgmlTypeInfo.Name(type)}, which is not read (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K are)");
        long elements = 1;
        try { foreach (var d in ne) elements = checked(elements * d); }
        catch (OverflowException) { throw new GgufException(path, item, "its element count overflows 64 bits"); }
        if (ne[0] % blockElements != 0)
            throw new GgufException(path, item, $"its rows of {ne[0]} elements are not whole {GgmlTypeInfo.Name(type)} blocks of {blockElements}");
        long bytes;
        try { bytes = checked(elements / blockElements * blockBytes); }
        catch (OverflowException) { throw new GgufException(path, item, "its byte size overflows 64 bits"); }
        if (offset % (ulong)alignment != 0)
            throw new GgufException(path, item, $"its offset {offset} is not a multiple of the file's alignment ({alignment})");
        if (offset > (ulong)dataLength || bytes > dataLength - (long)offset)
            throw new GgufException(path, item, $"its {bytes} bytes at offset {offset} run past the end of the {dataLength}-byte data section");

        long[] shape = ne.Reverse().ToArray();
        if (values.TryGetValue(OrigShapePrefix + name, out var orig))
            shape = OriginalShape(path, name, orig, elements);
        bool blocks = blockElements > 1;
        return new TensorInfo(name, blocks ? DType.Float32 : GgmlTypeInfo.PlainDType(type), shape, (long)offset, (long)offset + bytes)
        {
            StoredType = blocks ? type : null,
        };
    }

    private static (Dictionary<string, TensorInfo>, List<string>) TransformersNames(string path, Dictionary<string, TensorInfo> tensors,
        List<string> names)
    {
        var renamed = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var name in names)
        {
            string mapped = LlamaCppLanguageModel.TransformersName(name);
            if (!renamed.TryAdd(mapped, tensors[name] with { Name = mapped }))
                throw new GgufException(path, $"tensor '{name}'", $"is read as '{mapped}', which another tensor of the file already is");
            order.Add(mapped);
        }
        return (renamed, order);
    }

    /// <summary>Two tensors sharing bytes mean a corrupt index (ggml's own reader wants them back to back in order); gaps are let be.</summary>
    private static void RefuseOverlaps(string path, IEnumerable<TensorInfo> tensors)
    {
        TensorInfo? previous = null;
        foreach (var t in tensors.Where(t => t.ByteLength > 0).OrderBy(t => t.DataBegin))
        {
            if (previous != null && t.DataBegin < previous.DataEnd)
                throw new GgufException(path, $"tensor '{t.Name}'",
                    $"its bytes [{t.DataBegin}, {t.DataEnd}) overlap those of tensor '{previous.Name}' [{previous.DataBegin}, {previous.DataEnd})");
            if (previous == null || t.DataEnd > previous.DataEnd) previous = t;
        }
    }

    private static long[] OriginalShape(string path, string name, object value, long elements)
    {
        string item = $"metadata '{OrigShapePrefix}{name}'";
        long[] shape = value switch
        {
            int[] ints => ints.Select(i => (long)i).ToArray(),
            long[] longs => longs,
            uint[] uints => uints.Select(i => (long)i).ToArray(),
            _ => throw new GgufException(path, item, "must be an array of integers"),
        };
        long product = 1;
        foreach (var d in shape)
        {
            if (d < 0 || (d > 0 && product > long.MaxValue / d)) throw new GgufException(path, item, $"[{string.Join(", ", shape)}] is not a shape");
            product *= d;
        }
        if (shape.Length == 0 || product != elements)
            throw new GgufException(path, item, $"[{string.Join(", ", shape)}] does not hold the tensor's {elements} elements");
        return shape;
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    /// <summary>The tensor's values: a view of the mapped elements, or for a block-quantized tensor its values decoded to
    /// F32 (once; the copy lives as long as the file).</summary>
    public TensorView Get(string name)
    {
        var info = Info(name);
        if (info.StoredType is not { } type) return Stored(info);
        lock (_decoded)
        {
            if (!_decoded.TryGetValue(name, out var decoded))
            {
                // Rows are whole blocks (checked at open), so the tensor is too.
                GgmlTypeInfo.TryGetLayout(type, out int blockElements, out _);
                decoded = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(4 * info.ElementCount, 4), 64);
                GgmlBlockDecoder.DecodeBlocks(type, (byte*)Stored(info).Data, info.ElementCount / blockElements, (float*)decoded);
                _decoded.Add(name, decoded);
            }
            return new TensorView(info with { StoredType = null, DataBegin = 0, DataEnd = 4 * info.ElementCount }, decoded, FilePath);
        }
    }

    /// <summary>The tensor's bytes as stored: for a block-quantized tensor, its blocks (<see cref="TensorInfo.StoredType"/>).</summary>
    public TensorView GetStored(string name) => Stored(Info(name));

    public bool TryGet(string name, out TensorView view)
    {
        bool present = _tensors.ContainsKey(name);
        view = present ? Get(name) : default;
        return present;
    }

    private TensorInfo Info(string name) =>
        _tensors.TryGetValue(name, out var info) ? info : throw new GgufException(FilePath, $"tensor '{name}'", "is not in the file");

    private TensorView Stored(TensorInfo info)
    {
        if (_base == null) throw new ObjectDisposedException(FilePath);
        byte* stored = _base + DataStart + info.DataBegin;
        if (!_permutedHeads.TryGetValue(info.Name, out int heads)) return new TensorView(info, (nint)stored, FilePath);
        lock (_unpermuted)
        {
            if (!_unpermuted.TryGetValue(info.Name, out var rows))
            {
                rows = (nint)NativeMemory.AlignedAlloc((nuint)Math.Max(info.ByteLength, 1), 64);
                LlamaCppLanguageModel.Unpermute(stored, (byte*)rows, info.Shape[0], info.ByteLength / info.Shape[0], heads);
                _unpermuted.Add(info.Name, rows);
            }
            return new TensorView(info with { DataBegin = 0, DataEnd = info.ByteLength }, rows, FilePath);
        }
    }

    public void Dispose()
    {
        lock (_decoded)
        {
            foreach (var p in _decoded.Values) NativeMemory.AlignedFree((void*)p);
            _decoded.Clear();
        }
        lock (_unpermuted)
        {
            foreach (var p in _unpermuted.Values) NativeMemory.AlignedFree((void*)p);
            _unpermuted.Clear();
        }
        if (_base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view.Dispose();
        _map.Dispose();
    }

    /// <summary>Reads the header from the mapping, every read checked against the file's end.</summary>
    private ref struct Reader(string path, byte* data, long length)
    {
        public long Position { get; private set; }

        private byte* Take(long bytes, string what)
        {
            if (bytes > length - Position)
                throw new GgufException(path, null, $"ends inside {what} (byte {Position} of {length}): the file is truncated");
            byte* p = data + Position;
            Position += bytes;
            return p;
        }

        public uint U32(string what) => *(uint*)Take(4, what);
        public int I32(string what) => *(int*)Take(4, what);
        public ulong U64(string what) => *(ulong*)Take(8, what);
        public long I64(string what) => *(long*)Take(8, what);

        /// <summary>A 64-bit count, at most the bytes left divided by the smallest size one counted item takes.</summary>
        public long Count(string what, int minimumItemBytes)
        {
            ulong n = U64(what);
            if (n > (ulong)((length - Position) / minimumItemBytes))
                throw new GgufException(path, null, $"{what} {n} is more than the {length - Position} bytes left could hold (a wrong count, or a truncated file)");
            return (long)n;
        }

        public string String(string what)
        {
            ulong n = U64(what + "'s length");
            if (n > (ulong)(length - Position))
                throw new GgufException(path, null, $"{what} of {n} bytes at byte {Position} runs past the end of the {length}-byte file");
            if (n > MaxStringBytes) throw new GgufException(path, null, $"{what} of {n} bytes at byte {Position} is longer than the {MaxStringBytes} bytes read");
            var bytes = new ReadOnlySpan<byte>(Take((int)n, what), (int)n);
            try
            {
                return Strict.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw new GgufException(path, null, $"{what} at byte {Position - (long)n} is not valid UTF-8");
            }
        }

        public object Value(string key)
        {
            int type = I32($"the type of metadata '{key}'");
            if (type == 9) return Array(key);
            return Scalar(type, key);
        }

        private object Scalar(int type, string key) => type switch
        {
            0 => *Take(1, key),
            1 => *(sbyte*)Take(1, key),
            2 => *(ushort*)Take(2, key),
            3 => *(short*)Take(2, key),
            4 => U32(key),
            5 => I32(key),
            6 => *(float*)Take(4, key),
            7 => Bool(key),
            8 => String($"metadata '{key}'"),
            10 => U64(key),
            11 => I64(key),
            12 => *(double*)Take(8, key),
            _ => throw new GgufException(path, $"metadata '{key}'", $"has value type {type}, which GGUF does not define"),
        };

        private bool Bool(string key)
        {
            byte b = *Take(1, key);
            return b <= 1 ? b == 1 : throw new GgufException(path, $"metadata '{key}'", $"is a bool stored as {b} (0 or 1 expected)");
        }

        private Array Array(string key)
        {
            int type = I32($"the element type of metadata '{key}'");
            if (type == 9) throw new GgufException(path, $"metadata '{key}'", "is an array of arrays, which is not read");
            int size = type switch { 0 or 1 or 7 => 1, 2 or 3 => 2, 4 or 5 or 6 => 4, 8 => 8, 10 or 11 or 12 => 8, _ => 0 };
            if (size == 0) throw new GgufException(path, $"metadata '{key}'", $"is an array of value type {type}, which GGUF does not define");
            long count = Count($"the length of metadata '{key}'", size);
            if (count > System.Array.MaxLength) throw new GgufException(path, $"metadata '{key}'", $"holds {count} values, too many to read");
            return type switch
            {
                0 => Elements<byte>(count, key),
                1 => Elements<sbyte>(count, key),
                2 => Elements<ushort>(count, key),
                3 => Elements<short>(count, key),
                4 => Elements<uint>(count, key),
                5 => Elements<int>(count, key),
                6 => Elements<float>(count, key),
                7 => Bools(count, key),
                8 => Strings(count, key),
                10 => Elements<ulong>(count, key),
                11 => Elements<long>(count, key),
                _ => Elements<double>(count, key),
            };
        }

        /// <summary>An array's fixed-size elements, copied as they lie.</summary>
        private T[] Elements<T>(long count, string key) where T : unmanaged =>
            new ReadOnlySpan<T>(Take(count * sizeof(T), key), (int)count).ToArray();

        private bool[] Bools(long count, string key)
        {
            var bytes = Elements<byte>(count, key);
            int wrong = System.Array.FindIndex(bytes, b => b > 1);
            if (wrong >= 0) throw new GgufException(path, $"metadata '{key}'", $"holds a bool stored as {bytes[wrong]} at {wrong} (0 or 1 expected)");
            return System.Array.ConvertAll(bytes, b => b == 1);
        }

        private string[] Strings(long count, string key)
        {
            var result = new string[count];
            for (long i = 0; i < count; i++) result[i] = String($"metadata '{key}'");
            return result;
        }
    }

    private static readonly UTF8Encoding Strict = new(false, true);
}
