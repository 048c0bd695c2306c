using System.Runtime.InteropServices;
using Flux2.Core;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;
using Flux2.Tests;

namespace Flux2.Core.Tests.Gguf;

/// <summary>GGUF headers, good and bad: everything a file can get wrong is a <see cref="GgufException"/> that names the file and
/// the tensor or key, raised at open, before any tensor is handed out.</summary>
public class GgufFileTests
{
    private static readonly float[] Values = [1.5f, -2f, 0.25f, 8f];

    /// <summary>A Q4_0 tensor [2, 32] (two blocks of d = 1, codes 0..15 → -8..7) and an F32 one [4], with a string and an array.</summary>
    private static GgufBuilder Valid() => new GgufBuilder()
        .Value("general.architecture", "flux")
        .Value("tokens", new[] { "a", "b" })
        .Tensor("w", GgmlType.Q4_0, [32, 2], [.. Q4Block(), .. Q4Block()])
        .Tensor("v", GgmlType.F32, [4], MemoryMarshal.AsBytes(Values.AsSpan()).ToArray());

    private static byte[] Q4Block() => [0x00, 0x3C, .. Enumerable.Range(0, 16).Select(j => (byte)(j | (15 - j) << 4))];

    private static GgufFile OpenBytes(TempDirectory dir, byte[] bytes, string name = "model.gguf")
    {
        File.WriteAllBytes(dir.File(name), bytes);
        return GgufFile.Open(dir.File(name));
    }

    private static string Refused(byte[] bytes)
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<GgufException>(() => OpenBytes(dir, bytes).Dispose());
        Assert.StartsWith(dir.File("model.gguf") + ": ", e.Message);
        return e.Message;
    }

    [Fact]
    public void AValidFileGivesItsShapesValuesAndBlocks()
    {
        using var dir = new TempDirectory();
        using var file = OpenBytes(dir, Valid().Build());
        Assert.Equal(["w", "v"], file.Names);
        Assert.Equal("flux", file.Architecture);
        Assert.Equal(new[] { "a", "b" }, file.Values["tokens"]);
        Assert.Equal([2L, 32L], file.Tensors["w"].Shape);
        Assert.Equal(GgmlType.Q4_0, file.Tensors["w"].StoredType);
        Assert.Equal(36, file.Tensors["w"].ByteLength);
        var row = Enumerable.Range(0, 16).Select(j => j - 8f).Concat(Enumerable.Range(0, 16).Select(j => 7f - j)).ToArray();
        Assert.Equal([.. row, .. row], file.Get("w").ToFloat32Array());
        Assert.Equal(36, file.GetStored("w").ByteLength);
        Assert.Equal(Values, file.Get("v").ToFloat32Array());
        Assert.Equal(DType.Float32, file.Get("v").DType);
    }

    [Fact]
    public void VersionTwoAndALargerAlignmentAreRead()
    {
        using var dir = new TempDirectory();
        var builder = Valid();
        builder.Version = 2;
        builder.Alignment = 256;
        builder.Value("general.alignment", 256u);
        using var file = OpenBytes(dir, builder.Build());
        Assert.Equal(0, file.DataStart % 256);
        Assert.Equal(256, file.Tensors["v"].DataBegin);
        Assert.Equal(Values, file.Get("v").ToFloat32Array());
    }

    [Fact]
    public void EveryTruncationIsRefusedAsTruncatedOrOutOfRange()
    {
        var bytes = Valid().Build();
        long end;
        using (var dir = new TempDirectory())
        using (var file = OpenBytes(dir, bytes))
            end = file.DataStart + file.Tensors.Values.Max(t => t.DataEnd);
        // The last tensor's padding may go; any byte before its end may not.
        for (int length = 0; length < end; length++)
        {
            string message;
            try { message = Refused(bytes[..length]); }
            catch (Exception e) { throw new Xunit.Sdk.XunitException($"prefix of {length} bytes: {e.Message}"); }
            Assert.True(message.Contains("truncated") || message.Contains("too short") || message.Contains("past the end"), $"{length}: {message}");
        }
    }

    [Fact]
    public void RandomByteChangesGiveAGgufExceptionOrAReadableFile()
    {
        var bytes = Valid().Build();
        var random = new Random(11);
        using var dir = new TempDirectory();
        for (int trial = 0; trial < 1500; trial++)
        {
            var mutated = (byte[])bytes.Clone();
            for (int n = random.Next(1, 4); n > 0; n--) mutated[random.Next(mutated.Length)] = (byte)random.Next(256);
            try
            {
                using var file = OpenBytes(dir, mutated);
                foreach (var name in file.Names) _ = file.Get(name).ToFloat32Array();
            }
            catch (GgufException)
            {
            }
        }
    }

    public static IEnumerable<object[]> BadHeaders =>
    [
        [Patch(Valid().Build(), 0, [0x47, 0x47, 0x55, 0x47]), "does not start with the GGUF magic (found 0x47554747)"],
        [Patch(Valid().Build(), 4, [1, 0, 0, 0]), "GGUF version 1 is not read"],
        [Patch(Valid().Build(), 4, [0, 0, 0, 3]), "is a big-endian GGUF file"],
        [Patch(Valid().Build(), 8, [0, 0, 0, 0, 0, 1, 0, 0]), "the tensor count 1099511627776 is more than the"],
        [Patch(Valid().Build(), 16, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), "the metadata count 9223372036854775807 is more than the"],
        [Patch(Valid().Build(), 24, [0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]), "a metadata key of 4294967295 bytes at byte 32 runs past the end"],
        [Patch(Valid().Build(), 32, [0xFF]), "a metadata key at byte 32 is not valid UTF-8"],
    ];

    private static byte[] Patch(byte[] bytes, int at, byte[] with)
    {
        with.CopyTo(bytes, at);
        return bytes;
    }

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void BadHeadersAreRefused(byte[] bytes, string expected) => Assert.Contains(expected, Refused(bytes));

    public static IEnumerable<object[]> BadContents =>
    [
        [new GgufBuilder().Tensor("blk.0.ffn", (GgmlType)16, [256], new byte[66]), "tensor 'blk.0.ffn': is stored as IQ2_XXS, which is not read (F32, F16"],
        [new GgufBuilder().Tensor("x", (GgmlType)99, [4], new byte[16]), "tensor 'x': is stored as type 99, which is not read"],
        [new GgufBuilder().Tensor("x", GgmlType.Q4_K, [100, 2], new byte[288]), "tensor 'x': its rows of 100 elements are not whole Q4_K blocks of 256"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [4], new byte[16], offset: 8), "tensor 'x': its offset 8 is not a multiple of the file's alignment (32)"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [4], new byte[16]).Tensor("y", GgmlType.F32, [16], new byte[16], offset: 0),
            "tensor 'y': its 64 bytes at offset 0 run past the end of the 32-byte data section"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [16], new byte[64]).Tensor("y", GgmlType.F32, [4], new byte[16], offset: 32),
            "tensor 'y': its bytes [32, 48) overlap those of tensor 'x' [0, 64)"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [1, 1, 1, 1, 1], new byte[4]), "tensor 'x': has 5 dimensions; GGUF allows 1 to 4"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [-1], []), "tensor 'x': dimension 0 is -1"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [1L << 40, 1L << 40], new byte[4]), "tensor 'x': its element count overflows 64 bits"],
        [new GgufBuilder().Tensor("x", GgmlType.F32, [1], new byte[4]).Tensor("x", GgmlType.F32, [1], new byte[4]), "tensor 'x': appears twice"],
        [new GgufBuilder().Value("k", 1).Value("k", 2), "metadata 'k': appears twice"],
        [new GgufBuilder().Value("general.alignment", 24u), "metadata 'general.alignment': must be a power of two (uint32) up to 2^20, found 24"],
        [new GgufBuilder().Value("general.alignment", 32), "metadata 'general.alignment': must be a power of two (uint32) up to 2^20, found 32"],
        [new GgufBuilder().Value("k", new[] { new[] { 1 } }), "metadata 'k': is an array of arrays, which is not read"],
        [new GgufBuilder().Value("comfy.gguf.orig_shape.x", new[] { 3, 3 }).Tensor("x", GgmlType.F32, [4], new byte[16]),
            "metadata 'comfy.gguf.orig_shape.x': [3, 3] does not hold the tensor's 4 elements"],
    ];

    [Theory]
    [MemberData(nameof(BadContents))]
    public void BadContentsAreRefusedNamingTheTensorOrKey(GgufBuilder builder, string expected) => Assert.Contains(expected, Refused(builder.Build()));

    [Fact]
    public void AStringLongerThanWhatIsReadIsRefused()
    {
        using var dir = new TempDirectory();
        var path = dir.File("long.gguf");
        File.WriteAllBytes(path, new GgufBuilder().Value("k", "v").Build());
        using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.Position = 24 + 8 + 1 + 4;
            stream.Write(BitConverter.GetBytes((ulong)(1 << 27)));
            stream.SetLength(1L << 28);
        }
        var e = Assert.Throws<GgufException>(() => GgufFile.Open(path).Dispose());
        Assert.Contains("metadata 'k' of 134217728 bytes at byte 45 is longer than the 67108864 bytes read", e.Message);
    }

    [Fact]
    public void ABoolOtherThanZeroOrOneIsRefused()
    {
        var bytes = new GgufBuilder().Value("flag", true).Build();
        Assert.Contains("metadata 'flag': is a bool stored as 2 (0 or 1 expected)", Refused(Patch(bytes, 24 + 12 + 4, [2])));
        var array = new GgufBuilder().Value("flags", new[] { true, false }).Build();
        Assert.Contains("metadata 'flags': holds a bool stored as 2 at 1 (0 or 1 expected)", Refused(Patch(array, 24 + 13 + 4 + 4 + 8 + 1, [2])));
    }

    [Fact]
    public void ComfyUisOriginalShapeIsTheTensorsShape()
    {
        using var dir = new TempDirectory();
        using var file = OpenBytes(dir, new GgufBuilder().Value("comfy.gguf.orig_shape.x", new[] { 2, 1, 2 })
            .Tensor("x", GgmlType.F32, [4], MemoryMarshal.AsBytes(Values.AsSpan()).ToArray()).Build());
        Assert.Equal([2L, 1L, 2L], file.Tensors["x"].Shape);
        Assert.Equal(Values, file.Get("x").ToFloat32Array());
    }

    [Fact]
    public void ACheckpointOpensAGgufFileByItsNameOrItsMagic()
    {
        using var dir = new TempDirectory();
        var bytes = Valid().Build();
        File.WriteAllBytes(dir.File("a.gguf"), bytes);
        File.WriteAllBytes(dir.File("b.safetensors"), bytes);
        foreach (var path in new[] { dir.File("a.gguf"), dir.File("b.safetensors") })
        {
            using var checkpoint = SafeTensorsCheckpoint.Open(path);
            Assert.IsType<GgufFile>(Assert.Single(checkpoint.Files));
            Assert.Equal(Values, checkpoint.Get("v").ToFloat32Array());
            Assert.Equal("Q4_0", checkpoint.Info("w").StoredTypeName);
        }
    }

    [Fact]
    public void AFifoIsNeverOpenedToLookForTheMagic()
    {
        using var dir = new TempDirectory();
        var fifo = SpecialFiles.Fifo(dir.File("model.safetensors"));
        SpecialFiles.FinishesPromptly(fifo, () => Assert.False(GgufFile.HasMagic(fifo)));
        SpecialFiles.FinishesPromptly(fifo, () => Assert.Throws<SafeTensorsException>(() => SafeTensorsCheckpoint.Open(fifo)));
    }
}
