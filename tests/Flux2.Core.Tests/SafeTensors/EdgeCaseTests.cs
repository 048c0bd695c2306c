using System.Runtime.InteropServices;
using System.Text;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

/// <summary>Unusual but valid files: each must open and read back exactly.</summary>
public class EdgeCaseTests
{
    private static string WriteRaw(TempDirectory dir, string header, byte[] data)
    {
        var path = dir.File("edge.safetensors");
        var raw = MalformedSafeTensors.Raw(header, data.Length);
        data.CopyTo(raw, raw.Length - data.Length);
        File.WriteAllBytes(path, raw);
        return path;
    }

    [Fact]
    public void ZeroLengthTensorsAtTensorBoundariesAreAccepted()
    {
        using var dir = new TempDirectory();
        // Empty ranges may sit at the start, between two tensors or at the very end (as the reference reader allows).
        var path = WriteRaw(dir,
            "{\"empty0\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}," +
            "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}," +
            "\"between\":{\"dtype\":\"BF16\",\"shape\":[3,0],\"data_offsets\":[4,4]}," +
            "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}," +
            "\"end\":{\"dtype\":\"U8\",\"shape\":[0,5],\"data_offsets\":[8,8]}}",
            MemoryMarshal.AsBytes<float>([1.5f, -2f]).ToArray());
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(["empty0", "a", "between", "b", "end"], f.Names);
        Assert.Empty(f.Get("empty0").ToFloat32Array());
        Assert.Empty(f.Get("between").ToFloat32Array());
        Assert.Equal(0, f.Get("end").ElementCount);
        Assert.Equal([1.5f], f.Get("a").ToFloat32Array());
        Assert.Equal([-2f], f.Get("b").ToFloat32Array());
    }

    [Fact]
    public void EmptyHeaderAndSpacePaddingAndUnknownEntryFieldsAreAccepted()
    {
        using var dir = new TempDirectory();
        var path = WriteRaw(dir, "{}      ", []);
        using (var f = SafeTensorsFile.Open(path)) Assert.Empty(f.Names);

        path = WriteRaw(dir, "{\"s\":{\"dtype\":\"F64\",\"shape\":[],\"data_offsets\":[0,8],\"note\":\"extra\"}}   ",
            BitConverter.GetBytes(0.25));
        using var g = SafeTensorsFile.Open(path);
        Assert.Empty(g.Get("s").Shape);
        Assert.Equal([0.25f], g.Get("s").ToFloat32Array());
    }

    [Fact]
    public void EveryDTypeRoundTripsThroughTheWriter()
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        var dtypes = Enum.GetValues<DType>().Where(d => d != DType.Float4E2M1x2).ToArray();
        foreach (var d in dtypes)
        {
            var bytes = Enumerable.Range(0, 3 * d.SizeInBytes()).Select(i => (byte)(i * 37 + (int)d)).ToArray();
            w.Add("t." + d, d, [3], bytes);
        }
        var path = dir.File("all.safetensors");
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        foreach (var d in dtypes)
        {
            var v = f.Get("t." + d);
            Assert.Equal(d, v.DType);
            Assert.Equal([3L], v.Shape);
            Assert.Equal(Enumerable.Range(0, 3 * d.SizeInBytes()).Select(i => (byte)(i * 37 + (int)d)).ToArray(), v.ToByteArray());
        }
    }

    [Fact]
    public void PackedFp4IsStoredAsU8()
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        w.Add("w", DType.Float4E2M1x2, [2, 1], new byte[] { 0x12, 0x34 });
        var path = dir.File("fp4.safetensors");
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(DType.UInt8, f.Get("w").DType);
        Assert.Equal("U8", DType.Float4E2M1x2.SafetensorsName());
    }

    [Fact]
    public unsafe void ViewsPointIntoTheMappingWithoutCopying()
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        w.AddFloat32("a", [3], [1f, 2f, 3f]);
        w.AddFloat32("b", [2, 2], [4f, 5f, 6f, 7f]);
        var path = dir.File("views.safetensors");
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        var a = f.Get("a");
        var b = f.Get("b");
        Assert.Equal(a.Data, f.Get("a").Data);
        // Both views are addresses inside one mapping, exactly as far apart as their file offsets.
        Assert.Equal(b.Info.DataBegin - a.Info.DataBegin, (long)(b.Data - a.Data));
        Assert.Equal(6f, ((float*)b.Data)[2]);
        Assert.Equal(new float[] { 4f, 5f, 6f, 7f }, b.AsSpan<float>().ToArray());
    }

    [Fact]
    public void HeaderMetadataIsExposed()
    {
        using var dir = new TempDirectory();
        var w = new SafeTensorsWriter();
        w.Metadata["format"] = "pt";
        w.Metadata["_quantization_metadata"] = "{\"layers\":{}}";
        w.AddFloat32("a", [1], [1f]);
        var path = dir.File("meta.safetensors");
        w.Write(path);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal("{\"layers\":{}}", f.Metadata["_quantization_metadata"]);
        Assert.DoesNotContain("__metadata__", f.Names);
    }

    [Fact]
    public void ShardedCheckpointResolvesNamesAndUnionsMetadata()
    {
        using var dir = new TempDirectory();
        var w1 = new SafeTensorsWriter();
        w1.Metadata["_quantization_metadata"] = "q";
        w1.AddFloat32("a", [2], [1f, 2f]);
        w1.Write(dir.File("m-00001-of-00002.safetensors"));
        var w2 = new SafeTensorsWriter();
        w2.Metadata["format"] = "pt";
        w2.AddFloat32("b", [1], [3f]);
        w2.AddFloat32("c", [1], [4f]);
        w2.Write(dir.File("m-00002-of-00002.safetensors"));
        // Written with a byte-order mark, as some editors save JSON.
        File.WriteAllText(dir.File("m.safetensors.index.json"),
            "{\"metadata\":{\"total_size\":16},\"weight_map\":{\"c\":\"m-00002-of-00002.safetensors\"," +
            "\"a\":\"m-00001-of-00002.safetensors\",\"b\":\"m-00002-of-00002.safetensors\"}}", new UTF8Encoding(true));

        using var ck = SafeTensorsCheckpoint.Open(dir.File("m.safetensors.index.json"));
        Assert.Equal(2, ck.Files.Count);
        Assert.Equal(["a", "b", "c"], ck.Names);
        Assert.Equal([4f], ck.Get("c").ToFloat32Array());
        Assert.Equal("q", ck.Metadata["_quantization_metadata"]);
        Assert.Equal("pt", ck.Metadata["format"]);
        Assert.Equal(16, ck.TotalBytes);
        Assert.False(ck.TryGet("d", out _));
        var e = Assert.Throws<SafeTensorsException>(() => ck.Get("d"));
        Assert.Equal("d", e.TensorName);
    }
}
