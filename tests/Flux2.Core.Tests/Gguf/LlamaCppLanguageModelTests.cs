using System.Runtime.InteropServices;
using Flux2.Core.Gguf;
using Flux2.Tests;

namespace Flux2.Core.Tests.Gguf;

/// <summary>A language model in llama.cpp's layout, read under its transformers names with q_proj / k_proj rows in
/// transformers' order.</summary>
public class LlamaCppLanguageModelTests
{
    /// <summary>Rows whose values say which row they are: row r holds r·10 + column.</summary>
    private static byte[] Rows(int rows, int columns) =>
        MemoryMarshal.AsBytes(Enumerable.Range(0, rows * columns).Select(i => (float)(i / columns * 10 + i % columns)).ToArray().AsSpan()).ToArray();

    /// <summary>A one-layer llama model: q_proj 2 heads of 4 rows, k_proj 1 head of 4 rows, both 2 columns.</summary>
    private static GgufBuilder Llama(string architecture = "llama") => new GgufBuilder()
        .Value("general.architecture", architecture)
        .Value(architecture + ".attention.head_count", 2u)
        .Value(architecture + ".attention.head_count_kv", 1u)
        .Tensor("token_embd.weight", GgmlType.F32, [2, 3], Rows(3, 2))
        .Tensor("blk.0.attn_q.weight", GgmlType.F32, [2, 8], Rows(8, 2))
        .Tensor("blk.0.attn_k.weight", GgmlType.F32, [2, 4], Rows(4, 2))
        .Tensor("blk.0.attn_v.weight", GgmlType.F32, [2, 4], Rows(4, 2))
        .Tensor("blk.0.attn_q_norm.weight", GgmlType.F32, [2], Rows(1, 2))
        .Tensor("blk.0.ffn_norm.weight", GgmlType.F32, [2], Rows(1, 2))
        .Tensor("output_norm.weight", GgmlType.F32, [2], Rows(1, 2))
        .Tensor("blk.0.unknown.weight", GgmlType.F32, [2], Rows(1, 2));

    private static GgufFile Open(TempDirectory dir, GgufBuilder builder)
    {
        string path = dir.File("lm.gguf");
        builder.Write(path);
        return GgufFile.Open(path);
    }

    /// <summary>The first value of each row, i.e. the stored row each one came from (×10).</summary>
    private static float[] RowStarts(GgufFile file, string name)
    {
        var values = file.Get(name).ToFloat32Array();
        return Enumerable.Range(0, values.Length / 2).Select(r => values[2 * r]).ToArray();
    }

    [Fact]
    public void TensorsGoByTheirTransformersNames()
    {
        using var dir = new TempDirectory();
        using var file = Open(dir, Llama());
        Assert.True(file.IsLlamaCppLanguageModel);
        Assert.Equal(
        [
            "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
            "model.layers.0.self_attn.v_proj.weight", "model.layers.0.self_attn.q_norm.weight", "model.layers.0.post_attention_layernorm.weight",
            "model.norm.weight", "blk.0.unknown.weight",
        ], file.Names);
        Assert.Equal([3L, 2], file.Tensors["model.embed_tokens.weight"].Shape);
        Assert.Equal("model.layers.0.self_attn.v_proj.weight", file.Get("model.layers.0.self_attn.v_proj.weight").Name);
    }

    [Fact]
    public void QueryAndKeyRowsComeBackInTransformersOrder()
    {
        // The converter moved row i + s·d/2 of each head to row 2i + s: stored rows 0..3 of a head of 4 are rows 0, 2, 1, 3.
        using var dir = new TempDirectory();
        using var file = Open(dir, Llama());
        Assert.Equal([0f, 20, 10, 30, 40, 60, 50, 70], RowStarts(file, "model.layers.0.self_attn.q_proj.weight"));
        Assert.Equal([0f, 20, 10, 30], RowStarts(file, "model.layers.0.self_attn.k_proj.weight"));
        Assert.Equal([0f, 10, 20, 30], RowStarts(file, "model.layers.0.self_attn.v_proj.weight"));
        Assert.Equal([0f, 1, 20, 21, 10, 11, 30, 31],
            MemoryMarshal.Cast<byte, float>(file.GetStored("model.layers.0.self_attn.k_proj.weight").ToByteArray()).ToArray());
    }

    [Fact]
    public void Qwen3RowsAreAsStored()
    {
        using var dir = new TempDirectory();
        using var file = Open(dir, Llama("qwen3"));
        Assert.Equal([0f, 10, 20, 30, 40, 50, 60, 70], RowStarts(file, "model.layers.0.self_attn.q_proj.weight"));
    }

    [Fact]
    public void OtherArchitecturesKeepLlamaCppsNames()
    {
        using var dir = new TempDirectory();
        using var file = Open(dir, Llama("gemma3"));
        Assert.False(file.IsLlamaCppLanguageModel);
        Assert.Contains("blk.0.attn_q.weight", file.Names);
    }

    public static TheoryData<string, string> Faults => new()
    {
        { "head_count", "has no metadata 'llama.attention.head_count', needed to undo the converter's row order of q_proj and k_proj" },
        { "head_count 3", "tensor 'model.layers.0.self_attn.q_proj.weight': [8, 2] does not hold 3 heads of an even number of rows" },
        { "rope scaling", "metadata 'llama.rope.scaling.type': is 'linear'; only the unscaled rotary embedding" },
        { "rope_freqs", "tensor 'rope_freqs.weight': scales the rotary frequencies" },
        { "collision", "tensor 'model.norm.weight': is read as 'model.norm.weight', which another tensor of the file already is" },
    };

    [Theory]
    [MemberData(nameof(Faults))]
    public void WhatTheEncoderCannotReadIsRefused(string fault, string expected)
    {
        var builder = fault switch
        {
            "head_count" => Llama().Without("llama.attention.head_count"),
            "head_count 3" => Llama().Without("llama.attention.head_count").Value("llama.attention.head_count", 3u),
            "rope scaling" => Llama().Value("llama.rope.scaling.type", "linear"),
            "rope_freqs" => Llama().Tensor("rope_freqs.weight", GgmlType.F32, [2], Rows(1, 2)),
            _ => Llama().Tensor("model.norm.weight", GgmlType.F32, [2], Rows(1, 2)),
        };
        using var dir = new TempDirectory();
        var e = Assert.Throws<GgufException>(() => Open(dir, builder).Dispose());
        Assert.StartsWith(dir.File("lm.gguf") + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
