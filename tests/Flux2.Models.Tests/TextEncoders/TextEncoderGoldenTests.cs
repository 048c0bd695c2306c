using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Cpu;
using Flux2.Models.TextEncoders;
using Flux2.Testing;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

/// <summary>The Qwen3 (klein) and Mistral (dev) encoders against the golden hidden states (golden README §5), through the
/// CPU backend and the opaque test backend, including the pitfalls of spec §12 items 11–14.</summary>
public sealed class TextEncoderGoldenTests
{
    public static TheoryData<string> Cases => new() { "te_qwen3_klein", "te_mistral_dev" };

    public static IEnumerable<object[]> BackendCases =>
        from name in new[] { "te_qwen3_klein", "te_mistral_dev" } from backend in TestBackends.Names select new object[] { name, backend };

    public static TheoryData<string> Backends => new(TestBackends.Names);

    private static TextEncoderGoldenCase Case(string name) => name == "te_qwen3_klein" ? TextEncoderGoldenCase.Qwen3 : TextEncoderGoldenCase.Mistral;

    /// <summary>The stacked output on the golden inputs, as a host tensor.</summary>
    private static Tensor Encode(TextEncoderGoldenCase c, TextEncoderOptions? options = null, string? weights = null,
        Action<JsonObject>? editConfig = null, string backend = TestBackends.Cpu)
    {
        using var dir = new TempDirectory();
        using var backendInstance = TestBackends.Create(backend);
        using var encoder = TextEncoder.Open(backendInstance, weights ?? c.WeightsPath, c.WriteConfig(dir, editConfig), options);
        return c.Encode(encoder);
    }

    [Theory]
    [MemberData(nameof(BackendCases))]
    public void HiddenStatesMatchTheGolden(string name, string backend)
    {
        // Index 0 is the embedding output and k the output of layer k (no final norm), spec §12 item 11.
        var c = Case(name);
        int[] layers = name == "te_qwen3_klein" ? [0, 1, 9, 18, 27] : [0, 1, 10, 20, 30];
        using var stacked = Encode(c, new TextEncoderOptions { HiddenStateLayers = layers }, backend: backend);
        for (int s = 0; s < layers.Length; s++)
            TextEncoderGoldenCase.AssertClose(c.Expected($"outputs.hidden_states.{layers[s]}"), TextEncoderGoldenCase.Slot(stacked, s, 64),
                $"{name} hidden_states.{layers[s]}");
    }

    [Theory]
    [MemberData(nameof(BackendCases))]
    public void EarlyExitOnATruncatedCheckpointGivesTheFullRunsStack(string name, string backend)
    {
        // The golden comes from running every layer; the encoder must need nothing past layer 27 (Qwen3) / 30 (Mistral),
        // so a checkpoint without the later layers and the final norm gives the same stacked output (spec §12 item 12).
        var c = Case(name);
        int last = name == "te_qwen3_klein" ? 27 : 30;
        using var dir = new TempDirectory();
        var truncated = dir.File("truncated.safetensors");
        c.RewriteWeights(truncated, keep: n => n == "model.embed_tokens.weight" || n.StartsWith("model.layers.") && LayerOf(n) < last);
        using var stacked = Encode(c, weights: truncated, backend: backend);
        Assert.Equal([2, 512, 3 * 64], stacked.Shape);
        TextEncoderGoldenCase.AssertClose(c.Expected("outputs.prompt_embeds"), stacked.AsSpan<float>(), $"{name} prompt_embeds");
    }

    [Theory]
    [MemberData(nameof(Backends))]
    public void UniformFullyMaskedRowsReproduceEagerAttention(string backend)
    {
        var c = TextEncoderGoldenCase.Mistral;
        using var stacked = Encode(c, new TextEncoderOptions { FullyMaskedRows = FullyMaskedRows.Uniform }, backend: backend);
        TextEncoderGoldenCase.AssertClose(c.Expected("outputs.prompt_embeds_eager"), stacked.AsSpan<float>(), "prompt_embeds_eager");
        // The left-pad rows are where the two attention implementations part ways.
        Assert.True(TextEncoderGoldenCase.WorstExcess(c.Expected("outputs.prompt_embeds"), stacked.AsSpan<float>(), out _) > 1);
    }

    [Fact]
    public void OmittingTheQkNormFailsTheGolden()
    {
        // Spec §12 item 14: the same Qwen3 weights run as a Mistral-style decoder (no q_norm/k_norm) must not match.
        var c = TextEncoderGoldenCase.Qwen3;
        using var stacked = Encode(c, new TextEncoderOptions { HiddenStateLayers = [9] }, editConfig: j => j["model_type"] = "mistral");
        Assert.True(TextEncoderGoldenCase.WorstExcess(c.Expected("outputs.hidden_states.9"), stacked.AsSpan<float>(), out _) > 0.1);
    }

    [Fact]
    public void InterleavedRopeFailsTheGolden()
    {
        // Spec §12 item 13. Rotate-half RoPE on head dims permuted as [0, 2, 4, …, 1, 3, 5, …] equals that permutation of
        // interleaved-pair RoPE, and q·k is unchanged when q and k are permuted alike. So permuting the rows of q_proj and
        // k_proj (and the q_norm/k_norm weights) within every head makes this encoder compute interleaved-RoPE attention.
        var c = TextEncoderGoldenCase.Qwen3;
        const int headDim = 24;
        using var dir = new TempDirectory();
        var permuted = dir.File("interleaved.safetensors");
        c.RewriteWeights(permuted, rewrite: (n, data) =>
            n.EndsWith("q_proj.weight") || n.EndsWith("k_proj.weight") || n.EndsWith("q_norm.weight") || n.EndsWith("k_norm.weight")
                ? PermuteHeadRows(data, headDim, rowBytes: n.EndsWith("norm.weight") ? 2 : 2 * 64)
                : data);
        using var stacked = Encode(c, new TextEncoderOptions { HiddenStateLayers = [9] }, weights: permuted);
        Assert.True(TextEncoderGoldenCase.WorstExcess(c.Expected("outputs.hidden_states.9"), stacked.AsSpan<float>(), out _) > 0.1);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void RotaryTableMatchesTransformersFloat32Table(string name)
    {
        var c = Case(name);
        var config = TextEncoderConfig.FromJson(System.Text.Json.JsonDocument.Parse(c.Config().ToJsonString()).RootElement, name);
        using var table = new RotaryTable(new CpuBackend(), 512, config.HeadDim, config.RopeTheta);
        var cos = c.Expected("trace.rope_cos");
        var sin = c.Expected("trace.rope_sin");
        int half = config.HeadDim / 2;
        var myCos = table.Cos.AsSpan<float>();
        var mySin = table.Sin.AsSpan<float>();
        double worst = 0;
        for (int p = 0; p < 512; p++)
            for (int j = 0; j < half; j++)
                foreach (int column in new[] { j, j + half }) // transformers stores the half table twice
                {
                    worst = Math.Max(worst, Math.Abs(cos[p * config.HeadDim + column] - myCos[p * half + j]));
                    worst = Math.Max(worst, Math.Abs(sin[p * config.HeadDim + column] - mySin[p * half + j]));
                }
        Assert.True(worst <= 2e-7, $"max |table − golden| = {worst}");
    }

    private static int LayerOf(string name) => int.Parse(name.Split('.')[2]);

    /// <summary>Reorders the rows of every head of <paramref name="headDim"/> rows as [0, 2, 4, …, 1, 3, 5, …].</summary>
    private static byte[] PermuteHeadRows(byte[] data, int headDim, int rowBytes)
    {
        var result = new byte[data.Length];
        int heads = data.Length / rowBytes / headDim;
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < headDim; i++)
            {
                int source = i < headDim / 2 ? 2 * i : 2 * (i - headDim / 2) + 1;
                Array.Copy(data, (h * headDim + source) * rowBytes, result, (h * headDim + i) * rowBytes, rowBytes);
            }
        return result;
    }
}
