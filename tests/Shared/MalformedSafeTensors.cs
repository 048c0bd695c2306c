using System.Text;
using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>
/// One hostile or broken safetensors checkpoint. <see cref="Create"/> writes it into an empty directory and
/// returns the path to open; the reader must reject it with a <see cref="SafeTensorsException"/> naming
/// <see cref="File"/> (a file name inside that directory) and <see cref="Tensor"/> (null: none), whose
/// message contains <see cref="Problem"/>.
/// </summary>
public sealed record MalformedCase(string Name, Func<string, string> Create, string File, string? Tensor, string Problem)
{
    public override string ToString() => Name;
}

/// <summary>The catalogue of malformed files shared by the reader tests and the <c>flux2 info</c> tests.</summary>
public static class MalformedSafeTensors
{
    private const string F = "bad.safetensors";
    private const string Index = "model.safetensors.index.json";

    /// <summary>A well-formed F32 entry of <paramref name="n"/> elements at byte <paramref name="begin"/>.</summary>
    public static string Entry(long n, long begin, string dtype = "F32", int elementSize = 4) =>
        $"{{\"dtype\":\"{dtype}\",\"shape\":[{n}],\"data_offsets\":[{begin},{begin + n * elementSize}]}}";

    /// <summary>8-byte length, the header bytes as given, then <paramref name="dataBytes"/> zero bytes.</summary>
    public static byte[] Raw(byte[] header, int dataBytes, ulong? declaredLength = null)
    {
        var bytes = new byte[8 + header.Length + dataBytes];
        BitConverter.GetBytes(declaredLength ?? (ulong)header.Length).CopyTo(bytes, 0);
        header.CopyTo(bytes, 8);
        return bytes;
    }

    public static byte[] Raw(string headerJson, int dataBytes) => Raw(Encoding.UTF8.GetBytes(headerJson), dataBytes);

    /// <summary>A valid file (header padded with spaces, as every writer pads it) whose header-length field is one less:
    /// the JSON still parses, and every tensor would be read one byte early.</summary>
    private static byte[] HeaderLengthLowered()
    {
        var bytes = Raw("{\"a\":" + Entry(2, 0) + "}   ", 8);
        BitConverter.GetBytes(BitConverter.ToUInt64(bytes) - 1).CopyTo(bytes, 0);
        return bytes;
    }

    private static MalformedCase Bytes(string name, byte[] content, string? tensor, string problem) =>
        new(name, dir => Write(dir, F, content), F, tensor, problem);

    private static MalformedCase Header(string name, string json, int dataBytes, string? tensor, string problem) =>
        Bytes(name, Raw(json, dataBytes), tensor, problem);

    private static string Write(string dir, string file, byte[] content)
    {
        var path = Path.Combine(dir, file);
        System.IO.File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>A valid shard holding F32 tensors of 4 elements each.</summary>
    private static void Shard(string dir, string file, params string[] tensors)
    {
        var w = new SafeTensorsWriter();
        foreach (var t in tensors) w.AddFloat32(t, [4], [1f, 2f, 3f, 4f]);
        w.Write(Path.Combine(dir, file));
    }

    private static MalformedCase Sharded(string name, string indexJson, Action<string> shards, string file, string? tensor, string problem) =>
        new(name, dir =>
        {
            shards(dir);
            return Write(dir, Index, Encoding.UTF8.GetBytes(indexJson));
        }, file, tensor, problem);

    private static string WeightMap(params (string Tensor, string Shard)[] map) =>
        "{\"metadata\":{\"total_size\":32},\"weight_map\":{" + string.Join(",", map.Select(m => $"\"{m.Tensor}\":\"{m.Shard}\"")) + "}}";

    public static IReadOnlyList<MalformedCase> All { get; } =
    [
        Bytes("empty file", [], null, "too short"),
        Bytes("truncated length prefix", [16, 0, 0, 0, 0], null, "too short"),
        Bytes("header length past end of file", Raw(Encoding.UTF8.GetBytes("{}"), 0, declaredLength: 1000), null, "runs past the end"),
        Bytes("header length over the cap", Raw(Encoding.UTF8.GetBytes("{}"), 0, declaredLength: 200_000_000), null, "exceeds"),
        Bytes("header length u64 max", Raw(Encoding.UTF8.GetBytes("{}"), 0, declaredLength: ulong.MaxValue), null, "exceeds"),
        Bytes("header length zero", Raw([], 16), null, "too short for a JSON object"),
        Header("header not JSON", "hello, world", 0, null, "not valid UTF-8 JSON"),
        Bytes("header invalid UTF-8", Raw([.. "{\"a"u8, 0xFF, 0xFE, .. "\":{}}"u8], 0), null, "not valid UTF-8 JSON"),
        Header("header truncated JSON", "{\"a\":{\"dtype\":\"F32\"", 0, null, "not valid UTF-8 JSON"),
        Header("header with trailing garbage", "{} x", 0, null, "not valid UTF-8 JSON"),
        Header("header nested too deep", new string('[', 64) + new string(']', 64), 0, null, "not valid UTF-8 JSON"),
        Header("JSON array root", "[1,2,3]", 0, null, "must be a JSON object"),
        Header("JSON number root", "42", 0, null, "must be a JSON object"),
        Header("entry not an object", "{\"a\":5}", 0, "a", "must be an object"),
        Header("missing dtype", "{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "a", "dtype"),
        Header("dtype not a string", "{\"a\":{\"dtype\":3,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "a", "dtype"),
        Header("unknown dtype", "{\"a\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", 16, "a", "unknown dtype 'F128'"),
        Header("lower-case dtype", "{\"a\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "a", "unknown dtype 'f32'"),
        Header("missing shape", "{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "a", "shape"),
        Header("shape not an array", "{\"a\":{\"dtype\":\"F32\",\"shape\":4,\"data_offsets\":[0,16]}}", 16, "a", "shape"),
        Header("negative dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, "a", "not a non-negative integer"),
        Header("non-integer dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,10]}}", 10, "a", "not a non-negative integer"),
        Header("string dimension", "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"4\"],\"data_offsets\":[0,16]}}", 16, "a", "not a non-negative integer"),
        Header("dimension beyond int64", "{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,4]}}", 4, "a", "not a non-negative integer"),
        Header("rank over the cap", "{\"a\":{\"dtype\":\"F32\",\"shape\":[" + string.Join(",", Enumerable.Repeat(1, 17)) + "],\"data_offsets\":[0,4]}}", 4, "a", "rank 17 exceeds"),
        Header("element count overflow", "{\"a\":{\"dtype\":\"U8\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4, "a", "element count"),
        Header("byte size overflow", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2305843009213693952],\"data_offsets\":[0,4]}}", 4, "a", "byte size"),
        Header("missing data_offsets", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "a", "data_offsets"),
        Header("one data offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4]}}", 4, "a", "data_offsets"),
        Header("negative data offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 4, "a", "non-negative integers"),
        Header("non-integer data offset", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4.5]}}", 8, "a", "non-negative integers"),
        Header("offsets reversed", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "a", "end before they begin"),
        Header("offsets past the data section", "{\"a\":{\"dtype\":\"F32\",\"shape\":[8],\"data_offsets\":[0,32]}}", 16, "a", "run past the end"),
        Header("size does not match shape", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, "a", "needs 8 bytes"),
        Header("size does not match dtype", "{\"a\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[0,16]}}", 16, "a", "needs 8 bytes"),
        Header("overlapping ranges", $"{{\"a\":{Entry(4, 0)},\"b\":{Entry(4, 8)}}}", 24, "b", "overlap tensor 'a'"),
        Header("range inside another", $"{{\"a\":{Entry(8, 0)},\"b\":{Entry(2, 8)}}}", 32, "b", "overlap tensor 'a'"),
        Header("zero-length range inside another", $"{{\"a\":{Entry(2, 0)},\"e\":{{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]}}}}", 8, "e", "overlap tensor 'a'"),
        Header("gap before the first tensor", $"{{\"a\":{Entry(1, 4)}}}", 8, "a", "leave bytes [0, 4) of the data section unindexed"),
        Header("gap between tensors", $"{{\"a\":{Entry(1, 0)},\"b\":{Entry(1, 8)}}}", 12, "b", "leave bytes [4, 8) of the data section unindexed"),
        Header("bytes after the last tensor", $"{{\"a\":{Entry(1, 0)}}}", 5, null, "1 trailing bytes are not indexed"),
        Bytes("header length lowered into its pad spaces", HeaderLengthLowered(), null, "1 trailing bytes are not indexed"),
        Header("duplicate tensor names", $"{{\"a\":{Entry(1, 0)},\"a\":{Entry(1, 4)}}}", 8, "a", "duplicate tensor name"),
        Header("duplicate field in an entry", "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 16, "a", "duplicate field 'dtype'"),
        Header("duplicate __metadata__", "{\"__metadata__\":{},\"__metadata__\":{}}", 0, null, "duplicate __metadata__"),
        Header("__metadata__ not an object", "{\"__metadata__\":[\"x\"]}", 0, null, "__metadata__ must be an object"),
        Header("non-string metadata value", "{\"__metadata__\":{\"format\":1}}", 0, null, "must be a string"),
        Header("duplicate metadata key", "{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, null, "duplicate __metadata__ key 'k'"),
        new("shard index not JSON", dir => Write(dir, Index, "{weight_map:"u8.ToArray()), Index, null, "not valid JSON"),
        new("shard index array root", dir => Write(dir, Index, "[]"u8.ToArray()), Index, null, "'weight_map' object"),
        new("shard index without weight_map", dir => Write(dir, Index, "{\"metadata\":{}}"u8.ToArray()), Index, null, "'weight_map' object"),
        Sharded("shard index with empty weight_map", "{\"weight_map\":{}}", _ => { }, Index, null, "lists no tensors"),
        Sharded("duplicate weight_map entry", "{\"weight_map\":{\"a\":\"s1.safetensors\",\"a\":\"s1.safetensors\"}}",
            dir => Shard(dir, "s1.safetensors", "a"), Index, "a", "duplicate entry in weight_map"),
        Sharded("weight_map value not a string", "{\"weight_map\":{\"a\":1}}", _ => { }, Index, "a", "shard file name"),
        Sharded("missing shard", WeightMap(("a", "s1.safetensors"), ("b", "s2.safetensors")),
            dir => Shard(dir, "s1.safetensors", "a"), Index, null, "shard 's2.safetensors' listed in weight_map is missing"),
        Sharded("tensor in two shards", WeightMap(("a", "s1.safetensors"), ("b", "s2.safetensors")),
            dir => { Shard(dir, "s1.safetensors", "a"); Shard(dir, "s2.safetensors", "a", "b"); }, "s2.safetensors", "a", "also present in shard"),
        Sharded("index names a tensor the shard lacks", WeightMap(("a", "s1.safetensors"), ("c", "s1.safetensors")),
            dir => Shard(dir, "s1.safetensors", "a"), Index, "c", "no shard holds it"),
        Sharded("index puts a tensor in the wrong shard", WeightMap(("a", "s1.safetensors"), ("b", "s1.safetensors"), ("c", "s2.safetensors")),
            dir => { Shard(dir, "s1.safetensors", "a"); Shard(dir, "s2.safetensors", "b", "c"); }, Index, "b", "the tensor is in 's2.safetensors'"),
        Sharded("shard tensor missing from the index", WeightMap(("a", "s1.safetensors")),
            dir => Shard(dir, "s1.safetensors", "a", "extra"), Index, "extra", "not listed in weight_map"),
        Sharded("path traversal in shard name", WeightMap(("a", "../s1.safetensors")),
            dir => Shard(dir, "s1.safetensors", "a"), Index, "a", "plain file name"),
        Sharded("absolute shard path", WeightMap(("a", "/etc/passwd")), _ => { }, Index, "a", "plain file name"),
        Sharded("malformed shard", WeightMap(("a", "s1.safetensors")),
            dir => System.IO.File.WriteAllBytes(Path.Combine(dir, "s1.safetensors"), Raw("{\"a\":7}", 0)), "s1.safetensors", "a", "must be an object"),
    ];
}
