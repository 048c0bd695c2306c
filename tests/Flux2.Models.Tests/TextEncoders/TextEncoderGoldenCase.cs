using System.Text.Json;
using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models.TextEncoders;
using Flux2.Tests;

namespace Flux2.Models.Tests.TextEncoders;

/// <summary>One text-encoder golden case (golden README §5): te_NAME.json holds the transformers config.json under
/// "config.json", te_NAME.safetensors the BF16 weights (HF names), te_NAME.io.safetensors inputs and outputs.</summary>
public sealed class TextEncoderGoldenCase
{
    /// <summary>The golden tolerance for fp32 (golden README §5).</summary>
    public const float Atol = 1e-3f, Rtol = 1e-4f;

    public static readonly TextEncoderGoldenCase Qwen3 = new("te_qwen3_klein");
    public static readonly TextEncoderGoldenCase Mistral = new("te_mistral_dev");

    public string Name { get; }
    public string WeightsPath => Fixtures.Golden(Name + ".safetensors");
    public string IoPath => Fixtures.Golden(Name + ".io.safetensors");

    private TextEncoderGoldenCase(string name) => Name = name;

    public JsonObject Config()
    {
        var root = JsonNode.Parse(File.ReadAllText(Fixtures.Golden(Name + ".json")))!;
        return (JsonObject)root["config.json"]!.DeepClone();
    }

    /// <summary>Writes the case's config.json (optionally edited) into <paramref name="dir"/>.</summary>
    public string WriteConfig(TempDirectory dir, Action<JsonObject>? edit = null, string fileName = "config.json")
    {
        var config = Config();
        edit?.Invoke(config);
        var path = dir.File(fileName);
        File.WriteAllText(path, config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>The golden token ids and attention mask, [B, L] row-major.</summary>
    public (long[] Ids, long[] Mask, int Batch) Inputs()
    {
        using var io = SafeTensorsFile.Open(IoPath);
        var ids = io.Get("inputs.input_ids");
        return (ids.ToInt64Array(), io.Get("inputs.attention_mask").ToInt64Array(), (int)ids.Shape[0]);
    }

    /// <summary>The encoder's output on the golden inputs, downloaded to a host tensor.</summary>
    public Tensor Encode(TextEncoder encoder)
    {
        var (ids, mask, batch) = Inputs();
        using var stacked = encoder.Encode(ids, mask, batch);
        return encoder.Backend.DownloadToHost(stacked);
    }

    public float[] Expected(string name)
    {
        using var io = SafeTensorsFile.Open(IoPath);
        return io.Get(name).ToFloat32Array();
    }

    /// <summary>Copies the golden weights to <paramref name="path"/>, keeping the tensors <paramref name="keep"/> accepts,
    /// renamed by <paramref name="rename"/> and with bytes rewritten by <paramref name="rewrite"/> (name, bytes → bytes).</summary>
    public void RewriteWeights(string path, Func<string, bool>? keep = null, Func<string, string>? rename = null,
        Func<string, byte[], byte[]>? rewrite = null, IEnumerable<(string Name, DType DType, long[] Shape, byte[] Data)>? extra = null)
    {
        using var source = SafeTensorsFile.Open(WeightsPath);
        var writer = new SafeTensorsWriter();
        foreach (var name in source.Names)
        {
            if (keep != null && !keep(name)) continue;
            var view = source.Get(name);
            var data = view.ToByteArray();
            if (rewrite != null) data = rewrite(name, data);
            writer.Add(rename?.Invoke(name) ?? name, view.DType, view.Shape, data);
        }
        foreach (var (n, dtype, shape, data) in extra ?? []) writer.Add(n, dtype, shape, data);
        writer.Write(path);
    }

    /// <summary>The largest |actual − expected| − (atol + rtol·|expected|); ≤ 0 means within tolerance.</summary>
    public static double WorstExcess(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, out int worstIndex) =>
        FloatComparison.WorstExcess(expected, actual, Atol, Rtol, out worstIndex);

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what) =>
        FloatComparison.AssertClose(expected, actual, Atol, Rtol, what);

    /// <summary>Slot <paramref name="slot"/> of a [B, L, S·H] stack as a [B, L, H] array.</summary>
    public static float[] Slot(Tensor stacked, int slot, int hidden)
    {
        int slots = stacked.Shape[2] / hidden, rows = stacked.Shape[0] * stacked.Shape[1];
        var src = stacked.AsSpan<float>();
        var result = new float[rows * hidden];
        for (int r = 0; r < rows; r++) src.Slice((r * slots + slot) * hidden, hidden).CopyTo(result.AsSpan(r * hidden, hidden));
        return result;
    }
}
