using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;

namespace Flux2.Models.Tests.Lora;

/// <summary>Hand-made LoRA files for a small transformer (D = 8, MLP 24, one block of each kind).</summary>
internal static class LoraFiles
{
    public const int D = 8;
    public const int M = 24;

    public static readonly Flux2Config Config = new()
    {
        NumLayers = 1, NumSingleLayers = 1, NumAttentionHeads = 2, AttentionHeadDim = 4, JointAttentionDim = 6, InChannels = 5,
        TimestepGuidanceChannels = 8, GuidanceEmbeds = false,
    };

    /// <summary>Distinct values: element i of tensor t is t + i/1000.</summary>
    public static float[] Values(int count, int seed) => Enumerable.Range(0, count).Select(i => seed + i / 1000f).ToArray();

    /// <summary>A tensor entry: name, dtype, shape and float values (stored in that dtype).</summary>
    public static (string Name, DType DType, long[] Shape, float[] Values) F32(string name, long[] shape, float[] values) =>
        (name, DType.Float32, shape, values);

    public static string Write(string path, IEnumerable<(string Name, DType DType, long[] Shape, float[] Values)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var w = new SafeTensorsWriter();
        foreach (var (k, v) in metadata ?? new Dictionary<string, string>()) w.Metadata[k] = v;
        foreach (var (name, dtype, shape, values) in tensors)
        {
            if (dtype == DType.Float32) w.AddFloat32(name, shape, values);
            else if (dtype == DType.Int64) w.AddInt64(name, shape, Array.ConvertAll(values, v => (long)v));
            else throw new ArgumentException($"no writer for {dtype}", nameof(tensors));
        }
        w.Write(path);
        return path;
    }

    /// <summary>A PEFT pair for <paramref name="module"/> [out, in] of rank <paramref name="rank"/>.</summary>
    public static IEnumerable<(string, DType, long[], float[])> Pair(string module, int rank, int outFeatures, int inFeatures, int seed = 1,
        string down = "lora_A", string up = "lora_B") =>
    [
        F32($"{module}.{down}.weight", [rank, inFeatures], Values(rank * inFeatures, seed)),
        F32($"{module}.{up}.weight", [outFeatures, rank], Values(outFeatures * rank, seed + 1)),
    ];

    public static Models.Lora.LoraSet Load(TensorNaming naming, bool lenient, params Models.Lora.LoraFile[] files) =>
        Models.Lora.LoraSet.Load(files, Config, naming, lenient);

    /// <summary>A file of <paramref name="tensors"/> is refused with "{file}: <paramref name="expected"/>", lenient or not
    /// (leniency skips only tensors that adapt no layer).</summary>
    public static void AssertRefused(IEnumerable<(string Name, DType DType, long[] Shape, float[] Values)> tensors, string expected)
    {
        using var dir = new Flux2.Tests.TempDirectory();
        var file = Write(dir.File("bad.safetensors"), tensors);
        foreach (bool lenient in new[] { false, true })
        {
            var e = Assert.Throws<Models.Lora.LoraException>(() => Load(TensorNaming.Diffusers, lenient, new Models.Lora.LoraFile(file)));
            Assert.Equal($"{file}: {expected}", e.Message);
        }
    }
}
