using Flux2.Core;
using Flux2.Core.Decoding;
using Flux2.Core.Gguf;
using Flux2.Tests;

namespace Flux2.Core.Tests.Gguf;

/// <summary>
/// Every ggml block type against ggml itself: tests/fixtures/gguf/ggml_blocks.gguf holds, per type, three rows of 512 values
/// (small, large with ±40 outliers, zeros and a constant run) quantized by ggml's <c>ggml_quantize_chunk</c> and written by
/// its GGUF writer, beside ggml's own dequantization of them (<c>expected.TYPE</c>, F32). Decoding must give those bits.
/// </summary>
public unsafe class GgmlBlockDecoderTests
{
    public static IEnumerable<object[]> Types =>
        new[] { "F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K" }.Select(t => new object[] { t });

    public static IEnumerable<object[]> BlockTypes => Types.Where(t => GgmlTypeInfo.IsBlockQuantized(Enum.Parse<GgmlType>((string)t[0])));

    private static GgufFile Open() => GgufFile.Open(Fixtures.File("gguf", "ggml_blocks.gguf"));

    [Theory]
    [MemberData(nameof(Types))]
    public void DecodesToGgmlsValuesBitForBit(string type)
    {
        using var file = Open();
        var tensor = file.Get("blocks." + type);
        Assert.Equal([3L, 512L], tensor.Shape);
        var info = file.Tensors["blocks." + type];
        Assert.Equal(Enum.Parse<GgmlType>(type), info.StoredType ?? GgufBuilder.PlainType(info.DType));
        var expected = file.Get("expected." + type).ToFloat32Array();
        var actual = tensor.ToFloat32Array();
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]),
                $"{type} element {i}: ggml {expected[i]:R}, decoded {actual[i]:R}");
    }

    [Theory]
    [MemberData(nameof(BlockTypes))]
    public void RowSegmentsThatCutBlocksDecodeAsTheWholeRow(string type)
    {
        using var file = Open();
        var stored = file.GetStored("blocks." + type);
        var expected = file.Get("expected." + type).ToFloat32Array();
        var weight = new LinearWeight(stored.Name, 3, 512, WeightFormat.GgmlBlocks, stored.Data, file, blockType: Enum.Parse<GgmlType>(type));
        Assert.Equal(stored.ByteLength, weight.DataBytes);
        var random = new Random(7);
        var segment = new float[512];
        for (int trial = 0; trial < 200; trial++)
        {
            int row = random.Next(3), k0 = random.Next(512), count = random.Next(1, 513 - k0);
            fixed (float* dst = segment) WeightRowDecoder.Decode(weight, row, k0, count, dst);
            Assert.Equal(expected.AsSpan(row * 512 + k0, count), segment.AsSpan(0, count));
        }
    }

    [Theory]
    [MemberData(nameof(BlockTypes))]
    public void TheVectorFormsGiveTheScalarFormsBits(string type)
    {
        var t = Enum.Parse<GgmlType>(type);
        GgmlTypeInfo.TryGetLayout(t, out int elements, out int bytes);
        const int blocks = 64;
        var data = new byte[blocks * bytes];
        var random = new Random(5);
        random.NextBytes(data);
        // Finite fp16 scales wherever the layout keeps them (an exponent of 31 is Inf or NaN, whose payloads may differ).
        for (int i = 1; i < data.Length; i += 2) data[i] &= 0x7B;
        var vector = new float[blocks * elements];
        var scalar = new float[blocks * elements];
        fixed (byte* p = data)
        fixed (float* v = vector, s = scalar)
        {
            GgmlBlockDecoder.DecodeBlocks(t, p, blocks, v);
            GgmlBlockDecoder.DecodeBlocksScalar(t, p, blocks, s);
        }
        for (int i = 0; i < vector.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(scalar[i]) == BitConverter.SingleToInt32Bits(vector[i]), $"{type} element {i}: {scalar[i]:R} vs {vector[i]:R}");
    }

    [Fact]
    public void ReadsEveryMetadataValueType()
    {
        using var file = Open();
        Assert.Equal(3u, file.Version);
        Assert.Equal("test", file.Architecture);
        var v = file.Values;
        Assert.Equal((byte)200, v["test.u8"]);
        Assert.Equal((sbyte)-100, v["test.i8"]);
        Assert.Equal((ushort)60000, v["test.u16"]);
        Assert.Equal((short)-30000, v["test.i16"]);
        Assert.Equal(4000000000u, v["test.u32"]);
        Assert.Equal(-2000000000, v["test.i32"]);
        Assert.Equal(1.5f, v["test.f32"]);
        Assert.Equal(true, v["test.bool"]);
        Assert.Equal("héllo wörld", v["test.string"]);
        Assert.Equal(18000000000000000000ul, v["test.u64"]);
        Assert.Equal(-9000000000000000000L, v["test.i64"]);
        Assert.Equal(0.1, v["test.f64"]);
        Assert.Equal(new[] { 1, -2, 3 }, v["test.arr_i32"]);
        Assert.Equal(new[] { "a", "bc", "" }, v["test.arr_str"]);
        Assert.Equal(new[] { 0.25f, -0.5f }, v["test.arr_f32"]);
        Assert.Equal("4000000000", file.Metadata["test.u32"]);
        Assert.Equal("True", file.Metadata["test.bool"]);
        Assert.False(file.Metadata.ContainsKey("test.arr_i32"));
    }
}
