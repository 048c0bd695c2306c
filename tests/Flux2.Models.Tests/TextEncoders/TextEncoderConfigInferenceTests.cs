using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.TextEncoders;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

/// <summary>A text encoder's configuration from its shapes alone, as single files without config.json need it: equal to the
/// published configs for tensors of their shapes (in every stored format), and to the golden one on the golden weights.</summary>
public sealed class TextEncoderConfigInferenceTests
{
    public static TheoryData<string, string, string> Published => new()
    {
        { "flux2-klein-4b", "model.", "Qwen3-4B" },
        { "flux2-klein-9b", "model.", "Qwen3-8B" },
        { "flux2-dev", "model.language_model.", "Mistral-Small-3.x" },
        { "flux2-dev", "language_model.model.", "Mistral-Small-3.x" },
    };

    private static TextEncoderConfig PublishedConfig(string repo) =>
        TextEncoderConfig.FromJsonFile(Fixtures.File("configs", repo, "text_encoder", "config.json"));

    /// <summary>Every tensor a model of <paramref name="config"/> has, the Linears stored as <paramref name="format"/>.</summary>
    private static Dictionary<string, TensorInfo> Tensors(TextEncoderConfig config, string prefix, string format)
    {
        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        void Add(string name, DType dtype, params long[] shape) => tensors[name] = new TensorInfo(name, dtype, shape, 0, 0);
        foreach (var t in TextEncoderWeights.ExpectedTensors(config, config.NumLayers))
        {
            string name = prefix + t.Name;
            if (!t.IsLinear || format == "bf16")
            {
                Add(name, DType.BFloat16, t.Shape);
                continue;
            }
            string stem = name[..^".weight".Length];
            if (format == "fp8")
            {
                Add(name, DType.Float8E4M3, t.Shape);
                Add(stem + ".weight_scale", DType.Float32);
            }
            else
            {
                Add(name, DType.UInt8, t.Shape[0], t.Shape[1] / 2);
                Add(stem + ".weight_scale", DType.Float8E4M3, t.Shape[0], t.Shape[1] / 16);
                Add(stem + ".weight_scale_2", DType.Float32);
            }
        }
        Add(prefix + TextEncoderWeights.FinalNormName, DType.BFloat16, config.HiddenSize);
        return tensors;
    }

    [Theory]
    [MemberData(nameof(Published))]
    public void ThePublishedEncodersAreInferredExactly(string repo, string prefix, string name)
    {
        var published = PublishedConfig(repo);
        foreach (var format in new[] { "bf16", "fp8", "nvfp4" })
        {
            var inferred = TextEncoderConfigInference.Infer(Tensors(published, prefix, format), "te.safetensors");
            Assert.Equal(published, inferred);
            Assert.Equal(name, inferred.PublishedName);
        }
    }

    [Fact]
    public void TheGoldenQwen3FileWithoutItsConfigEncodesAsWithIt()
    {
        // The golden Qwen3 has the published eps and θ, so its shapes say everything: loading without config.json (as a
        // ComfyUI single file comes) gives the golden hidden states.
        var c = TextEncoderGoldenCase.Qwen3;
        using var dir = new TempDirectory();
        var single = dir.File("qwen_3_tiny.safetensors");
        File.Copy(c.WeightsPath, single);
        using (var checkpoint = SafeTensorsCheckpoint.Open(single))
            Assert.Equal(TextEncoderConfig.FromJson(System.Text.Json.JsonDocument.Parse(c.Config().ToJsonString()).RootElement, "golden"),
                TextEncoderConfigInference.Infer(checkpoint));
        using var backend = new CpuBackend();
        using var encoder = TextEncoder.Open(backend, single);
        using var stacked = c.Encode(encoder);
        TextEncoderGoldenCase.AssertClose(c.Expected("outputs.prompt_embeds"), stacked.AsSpan<float>(), "inferred configuration");
    }

    [Fact]
    public void AMistralWhoseHeadsAreNot128WideNeedsItsConfig()
    {
        // Mistral has no q_norm to tell the head dim; the golden tiny one uses 32.
        var e = Assert.Throws<TextEncoderException>(() => TextEncoder.Open(new CpuBackend(), TextEncoderGoldenCase.Mistral.WeightsPath));
        Assert.Contains("te_mistral_dev.safetensors", e.Message);
        Assert.Contains("not whole heads of 128; give the encoder's config.json", e.Message);
    }

    [Theory]
    [InlineData("model.embed_tokens.weight", "no embedding table, so not a text encoder")]
    [InlineData("model.layers.0.mlp.gate_proj.weight", "missing tensor 'model.layers.0.mlp.gate_proj.weight' needed to infer")]
    [InlineData("model.layers.0.self_attn.k_proj.weight", "missing tensor 'model.layers.0.self_attn.k_proj.weight'")]
    public void WhatTheInferenceNeedsIsNamed(string removed, string message)
    {
        var tensors = Tensors(PublishedConfig("flux2-klein-4b"), "model.", "bf16");
        tensors.Remove(removed);
        var e = Assert.Throws<TextEncoderException>(() => TextEncoderConfigInference.Infer(tensors, "qwen.safetensors"));
        Assert.StartsWith("qwen.safetensors: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void ALlamaCppModelOfAnotherArchitectureIsNamedAsSuch()
    {
        // qwen3, llama and mistral3 files go by transformers names once open; any other keeps llama.cpp's.
        var tensors = new Dictionary<string, TensorInfo>
        {
            ["token_embd.weight"] = new("token_embd.weight", DType.Float32, [151936, 2560], 0, 0),
            ["blk.0.attn_q.weight"] = new("blk.0.attn_q.weight", DType.Float32, [4096, 2560], 0, 0),
        };
        var e = Assert.Throws<TextEncoderException>(() => TextEncoderConfigInference.Infer(tensors, "gemma-3-4b-Q4_K_M.gguf"));
        Assert.Equal("gemma-3-4b-Q4_K_M.gguf: a language model in llama.cpp's GGUF layout ('token_embd.weight', 'blk.N.…') whose " +
            "general.architecture is none of qwen3, llama, mistral3, the text encoders read", e.Message);
    }
}
