using System.IO.MemoryMappedFiles;
using System.Text;
using System.Text.Json;
using Flux2.Core.Files;

namespace Flux2.Core.SafeTensors;

/// <summary>
/// A memory-mapped safetensors file. The header is validated completely before any tensor is exposed;
/// tensor data is never copied: <see cref="Get"/> returns a view into the mapping, and pages are only
/// read from disk when a kernel touches them.
/// </summary>
public sealed unsafe class SafeTensorsFile : ITensorFile
{
    /// <summary>Largest header accepted (the format's reference implementation uses the same 100 MB cap).</summary>
    public const long MaxHeaderBytes = 100_000_000;
    public const int MaxRank = 16;

    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _base;
    private readonly Dictionary<string, TensorInfo> _tensors;

    public string FilePath { get; }
    public long FileLength { get; }
    /// <summary>Absolute file offset of the data section (8 + header length).</summary>
    public long DataStart { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;
    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyList<string> Names { get; }

    private SafeTensorsFile(string path, long fileLength, long dataStart, Dictionary<string, TensorInfo> tensors,
        List<string> names, Dictionary<string, string> metadata, MemoryMappedFile? map, MemoryMappedViewAccessor? view)
    {
        FilePath = path;
        FileLength = fileLength;
        DataStart = dataStart;
        _tensors = tensors;
        Names = names;
        Metadata = metadata;
        _map = map;
        _view = view;
        if (view != null)
        {
            byte* p = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
            _base = p + view.PointerOffset;
        }
    }

    public static SafeTensorsFile Open(string path)
    {
        RegularFile.Require(path, problem => new SafeTensorsException(path, null, problem));
        long length;
        byte[] header;
        long dataStart;
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            length = fs.Length;
            if (length < 8) throw new SafeTensorsException(path, null, $"file is {length} bytes, too short for the 8-byte header length");
            Span<byte> lenBytes = stackalloc byte[8];
            fs.ReadExactly(lenBytes);
            ulong n = BitConverter.ToUInt64(lenBytes);
            if (n > MaxHeaderBytes) throw new SafeTensorsException(path, null, $"header length {n} exceeds the {MaxHeaderBytes}-byte limit");
            if ((long)n > length - 8) throw new SafeTensorsException(path, null, $"header length {n} runs past the end of the {length}-byte file");
            if (n < 2) throw new SafeTensorsException(path, null, $"header length {n} is too short for a JSON object");
            header = new byte[n];
            fs.ReadExactly(header);
            dataStart = 8 + (long)n;
        }
        catch (IOException e)
        {
            throw new SafeTensorsException(path, null, "cannot read the file: " + e.Message, e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new SafeTensorsException(path, null, "cannot read the file: " + e.Message, e);
        }

        var (tensors, names, metadata) = ParseHeader(path, header, length - dataStart);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
            view = map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            view?.Dispose();
            map?.Dispose();
            throw new SafeTensorsException(path, null, "cannot memory-map the file: " + e.Message, e);
        }
        return new SafeTensorsFile(path, length, dataStart, tensors, names, metadata, map, view);
    }

    public bool Contains(string name) => _tensors.ContainsKey(name);

    public TensorView Get(string name)
    {
        if (!_tensors.TryGetValue(name, out var info)) throw new SafeTensorsException(FilePath, name, "no such tensor in the file");
        return View(info);
    }

    public TensorView GetStored(string name) => Get(name);

    public bool TryGet(string name, out TensorView view)
    {
        if (_tensors.TryGetValue(name, out var info))
        {
            view = View(info);
            return true;
        }
        view = default;
        return false;
    }

    private TensorView View(TensorInfo info)
    {
        if (_base == null) throw new ObjectDisposedException(FilePath);
        return new TensorView(info, (nint)(_base + DataStart + info.DataBegin), FilePath);
    }

    public void Dispose()
    {
        if (_view != null && _base != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _base = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }

    private static (Dictionary<string, TensorInfo>, List<string>, Dictionary<string, string>) ParseHeader(
        string path, byte[] header, long dataLength)
    {
        JsonDocument doc;
        try
        {
            // Strict UTF-8 first: JsonDocument would otherwise replace invalid sequences silently.
            _ = new UTF8Encoding(false, true).GetCharCount(header);
            doc = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException or ArgumentException)
        {
            throw new SafeTensorsException(path, null, "header is not valid UTF-8 JSON: " + e.Message, e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new SafeTensorsException(path, null, $"header must be a JSON object, found {doc.RootElement.ValueKind}");
            var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
            var names = new List<string>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (var prop in doc.RootElement.EnumerateObject())
            {
                if (prop.Name == "__metadata__")
                {
                    if (sawMetadata) throw new SafeTensorsException(path, null, "duplicate __metadata__ entry");
                    sawMetadata = true;
                    ParseMetadata(path, prop.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(prop.Name)) throw new SafeTensorsException(path, prop.Name, "duplicate tensor name in header");
                var info = ParseEntry(path, prop.Name, prop.Value, dataLength);
                tensors.Add(prop.Name, info);
                names.Add(prop.Name);
            }
            CheckFullyIndexed(path, tensors.Values, dataLength);
            return (tensors, names, metadata);
        }
    }

    private static void ParseMetadata(string path, JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsException(path, null, $"__metadata__ must be an object of strings, found {value.ValueKind}");
        foreach (var m in value.EnumerateObject())
        {
            if (m.Value.ValueKind != JsonValueKind.String)
                throw new SafeTensorsException(path, null, $"__metadata__ entry '{m.Name}' must be a string, found {m.Value.ValueKind}");
            if (!metadata.TryAdd(m.Name, m.Value.GetString()!))
                throw new SafeTensorsException(path, null, $"duplicate __metadata__ key '{m.Name}'");
        }
    }

    private static TensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        if (e.ValueKind != JsonValueKind.Object)
            throw new SafeTensorsException(path, name, $"header entry must be an object, found {e.ValueKind}");
        // Parsers disagree on which of two equal keys wins, so a hostile header could mean different tensors to different readers.
        var fields = new HashSet<string>(StringComparer.Ordinal);
        foreach (var field in e.EnumerateObject())
            if (!fields.Add(field.Name)) throw new SafeTensorsException(path, name, $"duplicate field '{field.Name}' in the header entry");
        if (!e.TryGetProperty("dtype", out var dtypeEl) || dtypeEl.ValueKind != JsonValueKind.String)
            throw new SafeTensorsException(path, name, "missing or non-string 'dtype'");
        var dtypeName = dtypeEl.GetString()!;
        if (!DTypeInfo.TryParseSafetensors(dtypeName, out var dtype))
            throw new SafeTensorsException(path, name, $"unknown dtype '{dtypeName}' (expected one of F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U8, BOOL)");

        if (!e.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
            throw new SafeTensorsException(path, name, "missing or non-array 'shape'");
        int rank = shapeEl.GetArrayLength();
        if (rank > MaxRank) throw new SafeTensorsException(path, name, $"rank {rank} exceeds the limit of {MaxRank}");
        var shape = new long[rank];
        long count = 1;
        int i = 0;
        foreach (var d in shapeEl.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                throw new SafeTensorsException(path, name, $"shape entry {i} is not a non-negative integer");
            shape[i++] = dim;
            try { count = checked(count * dim); }
            catch (OverflowException) { throw new SafeTensorsException(path, name, "element count of the shape overflows 64 bits"); }
        }

        if (!e.TryGetProperty("data_offsets", out var offEl) || offEl.ValueKind != JsonValueKind.Array || offEl.GetArrayLength() != 2)
            throw new SafeTensorsException(path, name, "'data_offsets' must be an array of two integers");
        var begin = offEl[0];
        var end = offEl[1];
        if (begin.ValueKind != JsonValueKind.Number || !begin.TryGetInt64(out var b) || b < 0
            || end.ValueKind != JsonValueKind.Number || !end.TryGetInt64(out var en) || en < 0)
            throw new SafeTensorsException(path, name, "'data_offsets' must hold two non-negative integers");
        if (en < b) throw new SafeTensorsException(path, name, $"data_offsets [{b}, {en}) end before they begin");
        if (en > dataLength)
            throw new SafeTensorsException(path, name, $"data_offsets [{b}, {en}) run past the end of the {dataLength}-byte data section");
        long expected;
        try { expected = checked(count * dtype.SizeInBytes()); }
        catch (OverflowException) { throw new SafeTensorsException(path, name, "byte size of the shape overflows 64 bits"); }
        if (en - b != expected)
            throw new SafeTensorsException(path, name,
                $"shape [{string.Join(", ", shape)}] of {dtypeName} needs {expected} bytes but data_offsets [{b}, {en}) hold {en - b}");
        return new TensorInfo(name, dtype, shape, b, en);
    }

    /// <summary>
    /// The data section must be the tensors' bytes back to back from 0 to its end, as the format's reference reader requires:
    /// a gap or bytes after the last tensor mean the header and the data disagree (a header length lowered by a few bytes
    /// hides in the header's trailing pad spaces and would shift every tensor), so such a file is refused, not read.
    /// </summary>
    private static void CheckFullyIndexed(string path, IEnumerable<TensorInfo> tensors, long dataLength)
    {
        long end = 0;
        TensorInfo? last = null;
        foreach (var t in tensors.OrderBy(t => t.DataBegin).ThenBy(t => t.DataEnd))
        {
            if (t.DataBegin < end)
                throw new SafeTensorsException(path, t.Name,
                    $"data_offsets [{t.DataBegin}, {t.DataEnd}) overlap tensor '{last!.Name}' at [{last.DataBegin}, {last.DataEnd})");
            if (t.DataBegin > end)
                throw new SafeTensorsException(path, t.Name,
                    $"data_offsets [{t.DataBegin}, {t.DataEnd}) leave bytes [{end}, {t.DataBegin}) of the data section unindexed (the data section must hold the tensors back to back)");
            end = t.DataEnd;
            last = t;
        }
        if (end != dataLength)
            throw new SafeTensorsException(path, null,
                $"the tensors end at byte {end} of the {dataLength}-byte data section: {dataLength - end} trailing bytes are not indexed (wrong header length or data_offsets)");
    }
}
