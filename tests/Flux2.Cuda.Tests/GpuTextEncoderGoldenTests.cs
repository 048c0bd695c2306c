using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.TextEncoders;
using Flux2.Tests;

namespace Flux2.Cuda.Tests;

/// <summary>
/// The Qwen3 (klein) and Mistral (dev) encoders on the GPU against the golden hidden states (golden README §5): the
/// stacked prompt embeddings (sdpa attention; for Mistral also the eager reference with uniform fully masked rows). Exact
/// mode: the CPU's tolerance, |Δ| ≤ 1e-3 + 1e-4·|expected|. bf16 mode: relative L2 error ≤ 5e-2, a first bound from the
/// per-op 1.5e-2 compounded over the encoders' layers, to be tightened to what the device measures. A GGUF encoder is
/// checked against the CPU running the same file. Skipped without a GPU.
/// </summary>
public sealed class GpuTextEncoderGoldenTests(GpuComparison comparison) : IClassFixture<GpuComparison>
{
    private const float Atol = 1e-3f, Rtol = 1e-4f;
    private const double BFloat16Tolerance = 5e-2;

    public static TheoryData<string, FullyMaskedRows, ComputePrecision> Cases()
    {
        var data = new TheoryData<string, FullyMaskedRows, ComputePrecision>();
        foreach (var precision in new[] { ComputePrecision.Float32, ComputePrecision.BFloat16 })
        {
            data.Add("te_qwen3_klein", FullyMaskedRows.Zero, precision);
            data.Add("te_mistral_dev", FullyMaskedRows.Zero, precision);
            data.Add("te_mistral_dev", FullyMaskedRows.Uniform, precision);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PromptEmbeddingsMatchTheGolden(string name, FullyMaskedRows masked, ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        using var dir = new TempDirectory();
        var config = dir.File("config.json");
        File.WriteAllText(config, JsonNode.Parse(File.ReadAllText(Fixtures.Golden(name + ".json")))!["config.json"]!.ToJsonString());
        using var io = SafeTensorsFile.Open(Fixtures.Golden(name + ".io.safetensors"));
        var ids = io.Get("inputs.input_ids");
        var expected = io.Get(masked == FullyMaskedRows.Uniform ? "outputs.prompt_embeds_eager" : "outputs.prompt_embeds").ToFloat32Array();

        using var encoder = TextEncoder.Open(gpu, Fixtures.Golden(name + ".safetensors"), config, new TextEncoderOptions { FullyMaskedRows = masked });
        using var stacked = encoder.Encode(ids.ToInt64Array(), io.Get("inputs.attention_mask").ToInt64Array(), checked((int)ids.Shape[0]));
        var actual = gpu.DownloadFloat32(stacked);
        string op = $"text encoder {name} {masked}";
        if (precision == ComputePrecision.BFloat16)
        {
            GpuComparison.AssertClose(op, precision, expected, actual, BFloat16Tolerance);
            return;
        }
        AssertWithinExactTolerance(op, expected, actual);
    }

    /// <summary>The golden Mistral as llama.cpp converts it (q/k rows permuted, q/k and the embedding in Q8_0 blocks),
    /// its rows put back and its blocks expanded once at load, against the CPU running the same file.</summary>
    [Theory]
    [InlineData(ComputePrecision.Float32)]
    [InlineData(ComputePrecision.BFloat16)]
    public void AGgufEncoderGivesTheCpusEmbeddings(ComputePrecision precision)
    {
        var gpu = comparison.Gpu(precision);
        using var dir = new TempDirectory();
        string gguf = dir.File("mistral.gguf");
        var config = JsonNode.Parse(File.ReadAllText(Fixtures.Golden("te_mistral_dev.json")))!["config.json"]!.AsObject();
        LlamaCppTextEncoderGguf.Convert(Fixtures.Golden("te_mistral_dev.safetensors"), config, "llama",
            q8: n => n.EndsWith("q_proj.weight", StringComparison.Ordinal) || n.EndsWith("k_proj.weight", StringComparison.Ordinal)
                || n == "model.embed_tokens.weight").Write(gguf);
        using var io = SafeTensorsFile.Open(Fixtures.Golden("te_mistral_dev.io.safetensors"));
        var ids = io.Get("inputs.input_ids").ToInt64Array();
        var mask = io.Get("inputs.attention_mask").ToInt64Array();
        int batch = checked((int)io.Get("inputs.input_ids").Shape[0]);
        float[] Encode(IBackend backend)
        {
            using var encoder = TextEncoder.Open(backend, gguf);
            using var stacked = encoder.Encode(ids, mask, batch);
            return backend.DownloadFloat32(stacked);
        }
        var expected = Encode(comparison.Cpu);
        var actual = Encode(gpu);
        const string op = "text encoder mistral.gguf";
        if (precision == ComputePrecision.BFloat16) GpuComparison.AssertClose(op, precision, expected, actual, BFloat16Tolerance);
        else AssertWithinExactTolerance(op, expected, actual);
    }

    private static void AssertWithinExactTolerance(string op, float[] expected, float[] actual)
    {
        double worst = FloatComparison.WorstExcess(expected, actual, Atol, Rtol, out _);
        GpuComparison.Report(op, ComputePrecision.Float32, expected.Length, worst, worst <= 0, " (excess over 1e-3 + 1e-4|x|)");
        Assert.True(worst <= 0, $"{op} (Float32): an output exceeds 1e-3 + 1e-4·|expected| by {worst:E3}");
    }
}
