using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Flux2.Core.Files;

namespace Flux2.Pipelines;

/// <summary>
/// Prompt embeddings computed before, so that a prompt seen again skips the text encoder: kept in memory (least recently
/// used out first, within a byte budget) and, when a folder is given, on disk, where later processes (repeated CLI calls, a
/// restarted server) find them. An entry's key is a SHA-256 of the text encoder's identity (its files, the stacked layers,
/// the backend and its precision) and of the prompt's token ids and mask, which decide the encoder's output completely.
/// A file that does not hold what its name promises (truncated, altered, another shape) is deleted and counts as a miss.
/// The cache only saves time: a folder that cannot be written is skipped.
/// </summary>
public sealed class PromptEmbeddingCache
{
    /// <summary>The cache folder; empty disables the disk cache. Default: $XDG_CACHE_HOME/flux2/prompts or ~/.cache/flux2/prompts.</summary>
    public const string FolderVariable = "FLUX2_PROMPT_CACHE";

    /// <summary>16 klein-4B prompts (512 tokens × 7680 features × 4 bytes each), 8 of dev.</summary>
    public const long DefaultMemoryBytes = 256L << 20;

    /// <summary>About 130 klein-4B prompts; the least recently used files go first beyond it.</summary>
    public const long DefaultDiskBytes = 2L << 30;

    private const string FileExtension = ".embedding";
    // Files: "FLUX2PE1", length and features (int32), the float32 values, a SHA-256 of all that; little-endian.
    private static ReadOnlySpan<byte> Magic => "FLUX2PE1"u8;
    private const int HeaderBytes = 16;          // magic, length, features
    private const int ChecksumBytes = 32;        // SHA-256 of header and values

    private readonly long _memoryBytes;
    private readonly long _diskBytes;
    private readonly LinkedList<Entry> _recent = new();
    private readonly Dictionary<string, LinkedListNode<Entry>> _entries = [];
    private readonly Lock _lock = new();
    private long _heldBytes;
    private long _hits, _misses;

    private sealed record Entry(string Name, int Length, int Features, float[] Values);

    /// <param name="memoryBytes">most bytes of embeddings held in memory (0: none)</param>
    /// <param name="folder">where entries are also written (null or empty: memory only)</param>
    /// <param name="diskBytes">most bytes of entries kept in <paramref name="folder"/></param>
    public PromptEmbeddingCache(long memoryBytes = DefaultMemoryBytes, string? folder = null, long diskBytes = DefaultDiskBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(memoryBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(diskBytes);
        _memoryBytes = memoryBytes;
        _diskBytes = diskBytes;
        Folder = string.IsNullOrEmpty(folder) ? null : folder;
    }

    /// <summary>The disk tier's folder, or null.</summary>
    public string? Folder { get; }

    /// <summary>Lookups answered from memory or disk.</summary>
    public long Hits => Interlocked.Read(ref _hits);

    /// <summary>Lookups the text encoder had to answer.</summary>
    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The front ends' cache: the default memory budget and the disk folder of <see cref="DefaultFolder"/>.</summary>
    public static PromptEmbeddingCache ForProcess() => new(folder: DefaultFolder(Environment.GetEnvironmentVariable));

    public static string? DefaultFolder(Func<string, string?> environment) => CacheFolder.Default(environment, FolderVariable, "prompts");

    /// <summary>The key of one prompt: its token ids and mask as the encoder <paramref name="encoderIdentity"/> sees them.</summary>
    public static string Key(string encoderIdentity, ReadOnlySpan<long> inputIds, ReadOnlySpan<long> attentionMask)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(encoderIdentity));
        Span<byte> count = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(count, inputIds.Length);
        hash.AppendData(count);
        hash.AppendData(MemoryMarshal.AsBytes(inputIds));
        hash.AppendData(MemoryMarshal.AsBytes(attentionMask));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>The embedding [length, features] stored under <paramref name="key"/>, or null.</summary>
    public float[]? TryGet(string key, int length, int features)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var node) && node.Value.Length == length && node.Value.Features == features)
            {
                _recent.Remove(node);
                _recent.AddFirst(node);
                Interlocked.Increment(ref _hits);
                return node.Value.Values;
            }
        }
        var values = ReadFile(key, length, features);
        if (values == null)
        {
            Interlocked.Increment(ref _misses);
            return null;
        }
        Interlocked.Increment(ref _hits);
        Remember(new Entry(key, length, features, values));
        return values;
    }

    /// <summary>Keeps <paramref name="values"/> [length, features] under <paramref name="key"/> (the array must not change afterwards).</summary>
    public void Add(string key, int length, int features, float[] values)
    {
        if (values.Length != (long)length * features)
            throw new ArgumentException($"a prompt embedding of {values.Length} values is not [{length}, {features}]", nameof(values));
        Remember(new Entry(key, length, features, values));
        WriteFile(key, length, features, values);
    }

    private void Remember(Entry entry)
    {
        long bytes = entry.Values.Length * sizeof(float);
        if (bytes > _memoryBytes) return;
        lock (_lock)
        {
            if (_entries.Remove(entry.Name, out var old))
            {
                _recent.Remove(old);
                _heldBytes -= old.Value.Values.Length * sizeof(float);
            }
            _entries[entry.Name] = _recent.AddFirst(entry);
            _heldBytes += bytes;
            while (_heldBytes > _memoryBytes && _recent.Last is { } last)
            {
                _recent.RemoveLast();
                _entries.Remove(last.Value.Name);
                _heldBytes -= last.Value.Values.Length * sizeof(float);
            }
        }
    }

    private string? PathOf(string key) => Folder == null ? null : Path.Combine(Folder, key + FileExtension);

    private float[]? ReadFile(string key, int length, int features)
    {
        long valueBytes = (long)length * features * sizeof(float);
        if (PathOf(key) is not { } path || HeaderBytes + valueBytes + ChecksumBytes > Array.MaxLength || !File.Exists(path)) return null;
        try
        {
            byte[] bytes;
            using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
            {
                if (stream.Length != HeaderBytes + valueBytes + ChecksumBytes) return Discard(path);
                bytes = new byte[stream.Length];
                stream.ReadExactly(bytes);
            }
            var body = bytes.AsSpan(0, HeaderBytes + (int)valueBytes);
            if (!body[..8].SequenceEqual(Magic)
                || BinaryPrimitives.ReadInt32LittleEndian(body[8..]) != length
                || BinaryPrimitives.ReadInt32LittleEndian(body[12..]) != features
                || !SHA256.HashData(body).AsSpan().SequenceEqual(bytes.AsSpan(body.Length)))
                return Discard(path);
            var values = new float[(long)length * features];
            body[HeaderBytes..].CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow); // recently used: evicted last
            return values;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Deletes a file that does not hold what its name promises; the caller then counts a miss.</summary>
    private static float[]? Discard(string path)
    {
        CacheFolder.TryDelete(path);
        return null;
    }

    private void WriteFile(string key, int length, int features, float[] values)
    {
        if (PathOf(key) is not { } path) return;
        long valueBytes = (long)values.Length * sizeof(float);
        if (HeaderBytes + valueBytes + ChecksumBytes > Math.Min(_diskBytes, Array.MaxLength)) return;
        var bytes = new byte[HeaderBytes + valueBytes + ChecksumBytes];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), length);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), features);
        MemoryMarshal.AsBytes(values.AsSpan()).CopyTo(bytes.AsSpan(HeaderBytes));
        SHA256.HashData(bytes.AsSpan(0, HeaderBytes + (int)valueBytes), bytes.AsSpan(HeaderBytes + (int)valueBytes));
        // Not written: the next process encodes again.
        if (CacheFolder.TryWrite(path, bytes)) TrimFolder();
    }

    /// <summary>Deletes the least recently used entries until the folder holds at most the disk budget.</summary>
    private void TrimFolder()
    {
        FileInfo[] files;
        try
        {
            files = new DirectoryInfo(Folder!).GetFiles("*" + FileExtension);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return; // trimmed by the next write
        }
        long total = files.Sum(f => f.Length);
        foreach (var file in files.OrderBy(f => f.LastWriteTimeUtc))
        {
            if (total <= _diskBytes) break;
            total -= file.Length;
            CacheFolder.TryDelete(file.FullName);
        }
    }
}
