using Flux2.Core;
using Flux2.Core.Numerics;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Tests.Lora;

/// <summary>The key spellings LyCORIS adapters are found with.</summary>
public enum LycorisSpelling
{
    /// <summary>LyCORIS' own: <c>lycoris_{module with underscores}.lokr_w1</c>.</summary>
    Lycoris,
    /// <summary>kohya / sd-scripts: <c>lora_unet_{module with underscores}.hada_w1_a</c>, BF16.</summary>
    Kohya,
    /// <summary>ComfyUI / BFL wrappers: <c>diffusion_model.{dotted module}.lokr_w2</c>.</summary>
    Comfy,
}

/// <summary>
/// A random LyCORIS LoHa or LoKr over the Linears of a checkpoint that a filter accepts, named as that checkpoint names them.
/// Its reference ΔW is this test's own: (w1_a·w1_b) ⊙ (w2_a·w2_b)·alpha / r₁ for a LoHa; w1 ⊗ w2 scaled by alpha over the
/// rank of the factored half (the second's when both are; 1 when neither is or without alpha) for a LoKr, as LyCORIS and
/// ComfyUI define them, computed in double from the values written.
/// </summary>
public sealed class TestLycoris : ITestAdapter
{
    /// <summary>One module: its tensors by suffix and its reference ΔW at strength 1.</summary>
    private sealed record Module(string Name, IReadOnlyList<(string Suffix, long[] Shape, float[] Values)> Tensors, double[] Delta);

    private readonly List<Module> _modules;
    private readonly float? _alpha;

    private TestLycoris(List<Module> modules, float? alpha)
    {
        _modules = modules;
        _alpha = alpha;
    }

    /// <summary>A LoHa of ranks <paramref name="rank1"/> and <paramref name="rank2"/> on every Linear <paramref name="select"/> accepts.</summary>
    public static TestLycoris Loha(string checkpoint, int seed, int rank1, int rank2, float? alpha = null, Func<string, bool>? select = null)
    {
        var random = new Random(seed);
        var modules = new List<Module>();
        foreach (var (name, outFeatures, inFeatures) in TestLora.Linears(checkpoint, select))
        {
            float[] w1a = Values(random, outFeatures * rank1), w1b = Values(random, rank1 * inFeatures);
            float[] w2a = Values(random, outFeatures * rank2), w2b = Values(random, rank2 * inFeatures);
            double scale = (alpha ?? rank1) / (double)rank1;
            double[] first = Product(w1a, outFeatures, rank1, w1b, inFeatures), second = Product(w2a, outFeatures, rank2, w2b, inFeatures);
            var delta = new double[first.Length];
            for (int e = 0; e < delta.Length; e++) delta[e] = scale * first[e] * second[e];
            modules.Add(new Module(name,
                [("hada_w1_a", [outFeatures, rank1], w1a), ("hada_w1_b", [rank1, inFeatures], w1b),
                 ("hada_w2_a", [outFeatures, rank2], w2a), ("hada_w2_b", [rank2, inFeatures], w2b)], delta));
        }
        return new TestLycoris(modules, alpha);
    }

    /// <summary>A LoKr on every Linear <paramref name="select"/> accepts, its first half [a, b] sized by
    /// <paramref name="firstShape"/> from the layer's [out, in]; a half with a rank is written as a pair of that rank.</summary>
    public static TestLycoris Lokr(string checkpoint, int seed, Func<int, int, (int A, int B)> firstShape, int? firstRank = null,
        int? secondRank = null, float? alpha = null, Func<string, bool>? select = null)
    {
        var random = new Random(seed);
        var modules = new List<Module>();
        foreach (var (name, outFeatures, inFeatures) in TestLora.Linears(checkpoint, select))
        {
            var (a, b) = firstShape(outFeatures, inFeatures);
            int c = outFeatures / a, d = inFeatures / b;
            var tensors = new List<(string, long[], float[])>();
            double[] first = Half(random, "lokr_w1", a, b, firstRank, tensors), second = Half(random, "lokr_w2", c, d, secondRank, tensors);
            int? rank = secondRank ?? firstRank;
            double scale = alpha is { } al && rank is { } r ? al / (double)r : 1;
            var delta = new double[(long)outFeatures * inFeatures];
            for (int i = 0; i < a; i++)
                for (int j = 0; j < b; j++)
                    for (int k = 0; k < c; k++)
                        for (int l = 0; l < d; l++)
                            delta[(long)(i * c + k) * inFeatures + j * d + l] = scale * first[i * b + j] * second[k * d + l];
            modules.Add(new Module(name, tensors, delta));
        }
        return new TestLycoris(modules, alpha);
    }

    public IEnumerable<(string Module, double[] Delta)> Deltas() => _modules.Select(m => (m.Name, m.Delta));

    /// <summary>Writes the adapter with <paramref name="spelling"/>'s keys, with the DoRA <paramref name="magnitudes"/> of its
    /// modules (<c>dora_scale</c> [out, 1]) when given.</summary>
    public void Write(string path, LycorisSpelling spelling, IReadOnlyDictionary<string, float[]>? magnitudes = null)
    {
        var w = new SafeTensorsWriter();
        foreach (var m in _modules)
        {
            var stem = spelling switch
            {
                LycorisSpelling.Lycoris => "lycoris_" + m.Name.Replace('.', '_'),
                LycorisSpelling.Kohya => "lora_unet_" + m.Name.Replace('.', '_'),
                _ => "diffusion_model." + m.Name,
            };
            foreach (var (suffix, shape, values) in m.Tensors)
            {
                if (spelling == LycorisSpelling.Kohya) w.Add($"{stem}.{suffix}", DType.BFloat16, shape, Array.ConvertAll(values, BFloat16Bits.FromFloat));
                else w.AddFloat32($"{stem}.{suffix}", shape, values);
            }
            if (_alpha is { } alpha) w.AddFloat32($"{stem}.alpha", [], [alpha]);
            if (magnitudes?.GetValueOrDefault(m.Name) is { } magnitude)
            {
                long[] shape = [magnitude.Length, 1];
                if (spelling == LycorisSpelling.Kohya) w.Add($"{stem}.dora_scale", DType.BFloat16, shape, Array.ConvertAll(magnitude, BFloat16Bits.FromFloat));
                else w.AddFloat32($"{stem}.dora_scale", shape, magnitude);
            }
        }
        w.Write(path);
    }

    /// <summary>One LoKr half [rows, columns]: whole, or a pair of <paramref name="rank"/>; its values multiplied out.</summary>
    private static double[] Half(Random random, string name, int rows, int columns, int? rank, List<(string, long[], float[])> tensors)
    {
        if (rank is not { } r)
        {
            var whole = Values(random, rows * columns);
            tensors.Add((name, [rows, columns], whole));
            return Array.ConvertAll(whole, v => (double)v);
        }
        float[] up = Values(random, rows * r), down = Values(random, r * columns);
        tensors.Add(($"{name}_a", [rows, r], up));
        tensors.Add(($"{name}_b", [r, columns], down));
        return Product(up, rows, r, down, columns);
    }

    private static double[] Product(float[] a, int rows, int inner, float[] b, int columns)
    {
        var product = new double[(long)rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++)
            {
                double sum = 0;
                for (int p = 0; p < inner; p++) sum += (double)a[i * inner + p] * b[p * columns + j];
                product[(long)i * columns + j] = sum;
            }
        return product;
    }

    /// <summary>Uniform in ±0.3, bf16-representable.</summary>
    private static float[] Values(Random random, int count) => TestLora.Bf16Uniform(random, count, 0.3f);
}
