using System.Runtime.InteropServices;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.SafeTensors;

/// <summary><see cref="SafeTensorsWriter.AddDeferred"/>: tensors whose bytes are produced while the file is written.</summary>
public class DeferredTensorWriterTests
{
    [Fact]
    public void DeferredTensorsRoundTripInOrderWithEagerOnes()
    {
        using var dir = new TempDirectory();
        var path = dir.File("deferred.safetensors");
        var produced = new List<string>();
        var w = new SafeTensorsWriter();
        w.AddFloat32("eager", [2], [1f, 2f]);
        w.AddDeferred("lazy", DType.Float32, [2, 3], stream =>
        {
            produced.Add("lazy");
            // In two pieces, as a producer writing row by row would.
            stream.Write(MemoryMarshal.AsBytes<float>([3f, 4f, 5f]));
            stream.Write(MemoryMarshal.AsBytes<float>([6f, 7f, 8f]));
        });
        w.AddDeferred("scalar", DType.Int64, [], stream =>
        {
            produced.Add("scalar");
            stream.Write(BitConverter.GetBytes(-9L));
        });
        w.AddDeferred("empty", DType.BFloat16, [0, 4], _ => produced.Add("empty"));
        Assert.Empty(produced); // nothing runs before Write
        w.Write(path);

        Assert.Equal(["lazy", "scalar", "empty"], produced);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(["eager", "lazy", "scalar", "empty"], f.Names);
        Assert.Equal([1f, 2f], f.Get("eager").ToFloat32Array());
        Assert.Equal([2L, 3L], f.Get("lazy").Shape);
        Assert.Equal([3f, 4f, 5f, 6f, 7f, 8f], f.Get("lazy").ToFloat32Array());
        Assert.Equal([-9L], f.Get("scalar").ToInt64Array());
        Assert.Equal(0, f.Get("empty").ElementCount);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(0)]
    public void DeferredTensorWritingTheWrongByteCountFailsAndLeavesNoFile(int bytes)
    {
        using var dir = new TempDirectory();
        var path = dir.File("bad.safetensors");
        var w = new SafeTensorsWriter();
        w.AddFloat32("good", [1], [1f]);
        w.AddDeferred("short", DType.Float32, [2], stream => stream.Write(new byte[bytes]));
        var e = Assert.Throws<InvalidOperationException>(() => w.Write(path));
        Assert.Contains("'short'", e.Message);
        Assert.Contains("needs 8", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void AFailingProducerLeavesNoFileAndKeepsTheOldOne()
    {
        using var dir = new TempDirectory();
        var path = dir.File("kept.safetensors");
        File.WriteAllText(path, "old");
        var w = new SafeTensorsWriter();
        w.AddDeferred("boom", DType.UInt8, [4], _ => throw new IOException("disk full"));
        Assert.Equal("disk full", Assert.Throws<IOException>(() => w.Write(path)).Message);
        Assert.Equal("old", File.ReadAllText(path));
        Assert.Single(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void DeferredNamesAreCheckedLikeEagerOnes()
    {
        var w = new SafeTensorsWriter();
        w.AddFloat32("a", [1], [1f]);
        Assert.Throws<ArgumentException>(() => w.AddDeferred("a", DType.Float32, [1], _ => { }));
        Assert.Throws<ArgumentException>(() => w.AddDeferred("__metadata__", DType.Float32, [1], _ => { }));
        Assert.Throws<ArgumentException>(() => w.AddDeferred("neg", DType.Float32, [-1], _ => { }));
    }
}
