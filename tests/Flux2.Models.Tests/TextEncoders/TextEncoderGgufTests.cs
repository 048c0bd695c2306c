using Flux2.Core;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;
using Flux2.Models.TextEncoders;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

/// <summary>
/// Text encoders in llama.cpp's GGUF layout (<see cref="LlamaCppTextEncoderGguf"/> writes the golden encoders as its
/// converter does): read without a config.json under their transformers names, the llama architectures' q_proj and
/// k_proj rows put back in transformers' order, the hyperparameters checked against the file's metadata.
/// </summary>
public sealed class TextEncoderGgufTests
{
    public static IEnumerable<object[]> Cases =>
        from c in new[] { ("te_qwen3_klein", "qwen3"), ("te_mistral_dev", "llama"), ("te_mistral_dev", "mistral3") }
        from backend in TestBackends.Names
        select new object[] { c.Item1, c.Item2, backend };

    private static TextEncoderGoldenCase Case(string name) => name == "te_qwen3_klein" ? TextEncoderGoldenCase.Qwen3 : TextEncoderGoldenCase.Mistral;

    private static string Write(TempDirectory dir, TextEncoderGoldenCase c, string architecture, Func<string, bool>? q8 = null, bool permute = true)
    {
        string path = dir.File($"{c.Name}-{architecture}.gguf");
        LlamaCppTextEncoderGguf.Convert(c.WeightsPath, c.Config(), architecture, q8, permute).Write(path);
        return path;
    }

    private static float[] Encode(string backend, string weights, string? config = null)
    {
        using var instance = TestBackends.Create(backend);
        using var encoder = TextEncoder.Open(instance, weights, config);
        var c = encoder.Config.Architecture == TextEncoderArchitecture.Qwen3 ? TextEncoderGoldenCase.Qwen3 : TextEncoderGoldenCase.Mistral;
        using var stacked = c.Encode(encoder);
        return stacked.AsSpan<float>().ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void AGgufEncoderGivesTheGoldenModelsHiddenStates(string name, string architecture, string backend)
    {
        var c = Case(name);
        using var dir = new TempDirectory();
        string gguf = Write(dir, c, architecture);
        // The same values, in another file layout: the bits of the transformers checkpoint with its config.json.
        Assert.Equal(Encode(backend, c.WeightsPath, c.WriteConfig(dir)), Encode(backend, gguf));
    }

    [Theory]
    [InlineData("te_qwen3_klein", "qwen3")]
    [InlineData("te_mistral_dev", "llama")]
    public void TheConfigurationComesFromTheShapesAndTheMetadata(string name, string architecture)
    {
        var c = Case(name);
        using var dir = new TempDirectory();
        using var checkpoint = SafeTensorsCheckpoint.Open(Write(dir, c, architecture));
        var expected = TextEncoderConfig.FromJson(System.Text.Json.JsonDocument.Parse(c.Config().ToJsonString()).RootElement, "golden");
        Assert.Equal(expected, TextEncoderConfigInference.Infer(checkpoint));
        Assert.True(checkpoint.Contains("model.layers.3.self_attn.o_proj.weight"));
        Assert.False(checkpoint.Contains("blk.3.attn_output.weight"));
    }

    [Fact]
    public void QuantizedRowsArePutBackInOrderToo()
    {
        // q_proj and k_proj in Q8_0 blocks (and the embedding table, looked up from its blocks): the permuted rows are whole
        // blocks, moved as they are. The quantization costs
        // 1.0 % relative L2 on the hidden states (0.24 % with the embedding left unquantized); rows in the wrong order cost 12.5 %
        // (the test below).
        var c = TextEncoderGoldenCase.Mistral;
        using var dir = new TempDirectory();
        bool Attention(string n) => n.EndsWith("q_proj.weight", StringComparison.Ordinal) || n.EndsWith("k_proj.weight", StringComparison.Ordinal)
            || n == "model.embed_tokens.weight";
        var expected = Encode(TestBackends.Cpu, c.WeightsPath, c.WriteConfig(dir));
        double quantized = FloatComparison.RelativeL2(expected, Encode(TestBackends.Cpu, Write(dir, c, "llama", Attention)));
        Assert.True(quantized is > 1e-4 and < 0.03, $"Q8_0 q/k/embedding: relative L2 {quantized}");

        using var file = GgufFile.Open(Write(dir, c, "llama", Attention));
        Assert.Equal(GgmlType.Q8_0, file.Tensors["model.layers.0.self_attn.q_proj.weight"].StoredType);
        var decoded = file.Get("model.layers.0.self_attn.q_proj.weight").ToFloat32Array();
        using var golden = SafeTensorsFile.Open(c.WeightsPath);
        double rows = FloatComparison.RelativeL2(golden.Get("model.layers.0.self_attn.q_proj.weight").ToFloat32Array(), decoded);
        Assert.True(rows < 0.01, $"layer 0 q_proj decoded against the golden rows: relative L2 {rows}");
    }

    [Fact]
    public void RowsLeftInTheConvertersOrderChangeTheOutput()
    {
        // The control for the test above: a llama file whose q/k rows were never permuted is read as permuted, and the
        // hidden states move far from the golden's (0.125 relative L2).
        var c = TextEncoderGoldenCase.Mistral;
        using var dir = new TempDirectory();
        var expected = Encode(TestBackends.Cpu, c.WeightsPath, c.WriteConfig(dir));
        double distance = FloatComparison.RelativeL2(expected, Encode(TestBackends.Cpu, Write(dir, c, "llama", permute: false)));
        Assert.True(distance > 0.05, $"relative L2 {distance}");
    }

    [Fact]
    public void MetadataGivesTheRopeBaseAndNormEps()
    {
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        string path = dir.File("theta.gguf");
        LlamaCppTextEncoderGguf.Convert(c.WeightsPath, c.Config(), "qwen3")
            .Without("qwen3.rope.freq_base").Value("qwen3.rope.freq_base", 500000f)
            .Without("qwen3.attention.layer_norm_rms_epsilon").Value("qwen3.attention.layer_norm_rms_epsilon", 1e-5f).Write(path);
        using var checkpoint = SafeTensorsCheckpoint.Open(path);
        var config = TextEncoderConfigInference.Infer(checkpoint);
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal((double)1e-5f, config.RmsNormEps);
    }

    public static TheoryData<string, object, string> ContradictingMetadata => new()
    {
        { "llama.block_count", 31u, "metadata 'llama.block_count' is 31, but the tensors give 32" },
        { "llama.vocab_size", 32000u, "metadata 'llama.vocab_size' is 32000, but the tensors give 1024" },
        { "llama.attention.head_count_kv", 4u, "metadata 'llama.attention.head_count_kv' is 4, but the tensors give 2" },
        { "llama.embedding_length", "64", "metadata 'llama.embedding_length' must be an integer, found 64" },
        { "llama.rope.scaling.type", "yarn", "metadata 'llama.rope.scaling.type': is 'yarn'; only the unscaled rotary embedding" },
        { "general.architecture", "qwen3", "general.architecture is 'qwen3', but the tensors are those of a Mistral model" },
        { "general.architecture", "gemma3", "general.architecture is none of qwen3, llama, mistral3" },
    };

    [Theory]
    [MemberData(nameof(ContradictingMetadata))]
    public void MetadataTheTensorsContradictIsRefused(string key, object value, string message)
    {
        var c = TextEncoderGoldenCase.Mistral;
        using var dir = new TempDirectory();
        string path = dir.File("bad.gguf");
        LlamaCppTextEncoderGguf.Convert(c.WeightsPath, c.Config(), "llama").Without(key).Value(key, value).Write(path);
        var e = Assert.ThrowsAny<Flux2Exception>(() =>
        {
            using var checkpoint = SafeTensorsCheckpoint.Open(path);
            TextEncoderConfigInference.Infer(checkpoint);
        });
        Assert.Contains(path, e.Message);
        Assert.Contains(message, e.Message);
    }
}
