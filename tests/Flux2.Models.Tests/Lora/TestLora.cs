using System.Globalization;
using Flux2.Core;
using Flux2.Core.Decoding;
using Flux2.Core.Numerics;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Tests.Lora;

/// <summary>The key spellings of the LoRA file formats in use.</summary>
public enum LoraFormat
{
    /// <summary>diffusers / PEFT: <c>transformer.{diffusers module}.lora_A.weight</c>, alpha in the adapter metadata.</summary>
    Peft,
    /// <summary>kohya: <c>lora_unet_{BFL module with underscores}.lora_down.weight</c>, BF16, <c>.alpha</c> tensors.</summary>
    Kohya,
    /// <summary>BFL / ai-toolkit: <c>diffusion_model.{BFL module}.lora_A.weight</c>, <c>.alpha</c> tensors when an alpha is set.</summary>
    AiToolkit,
}

/// <summary>A test adapter's updates as the reference sees them: each adapted module (the checkpoint's weight name without
/// <c>.weight</c>) with its whole ΔW [out, in] at strength 1, computed by the test from the tensors it wrote.</summary>
public interface ITestAdapter
{
    IEnumerable<(string Module, double[] Delta)> Deltas();
}

/// <summary>
/// A random LoRA over every Linear of a checkpoint, named as that checkpoint names them, that can be written in a file
/// format and merged into the checkpoint as the reference (W + s·B·A, written as F32 beside dequantized weights). The merge
/// is this test's own, from the names it generated, independent of the loader's key mapping.
/// </summary>
public sealed class TestLora : ITestAdapter
{
    /// <param name="Module">the checkpoint's weight name without <c>.weight</c></param>
    /// <param name="Down">A [Rank, In], bf16-representable so every file dtype holds it exactly</param>
    /// <param name="Up">B [Out, Rank], likewise</param>
    public sealed record Layer(string Module, int Rank, int Out, int In, float[] Down, float[] Up);

    public IReadOnlyList<Layer> Layers { get; }
    public float? Alpha { get; }

    private TestLora(IReadOnlyList<Layer> layers, float? alpha)
    {
        Layers = layers;
        Alpha = alpha;
    }

    /// <summary>A LoRA of <paramref name="rank"/> on every Linear of <paramref name="checkpoint"/> that <paramref name="select"/>
    /// accepts (all by default), with entries of A and B uniform in ±<paramref name="amplitude"/>.</summary>
    public static TestLora Random(string checkpoint, int seed, int rank = 4, float? alpha = null, Func<string, bool>? select = null,
        float amplitude = 0.1f)
    {
        var random = new Random(seed);
        var layers = new List<Layer>();
        foreach (var (module, outFeatures, inFeatures) in Linears(checkpoint, select))
            layers.Add(new Layer(module, rank, outFeatures, inFeatures,
                Bf16Uniform(random, rank * inFeatures, amplitude), Bf16Uniform(random, outFeatures * rank, amplitude)));
        return new TestLora(layers, alpha);
    }

    /// <summary>s = alpha / rank · strength, as every format defines it.</summary>
    public float Scale(Layer m, float strength) => (Alpha ?? m.Rank) / m.Rank * strength;

    /// <summary>Writes the LoRA with <paramref name="format"/>'s key spellings, with the DoRA <paramref name="magnitudes"/> of
    /// its modules when given (PEFT's <c>lora_magnitude_vector</c> [out], else <c>dora_scale</c> [out, 1]).</summary>
    public void Write(string path, LoraFormat format, IReadOnlyDictionary<string, float[]>? magnitudes = null)
    {
        var w = new SafeTensorsWriter();
        foreach (var m in Layers)
        {
            var magnitude = magnitudes?.GetValueOrDefault(m.Module);
            switch (format)
            {
                case LoraFormat.Peft:
                    w.AddFloat32($"transformer.{m.Module}.lora_A.weight", [m.Rank, m.In], m.Down);
                    w.AddFloat32($"transformer.{m.Module}.lora_B.weight", [m.Out, m.Rank], m.Up);
                    if (magnitude != null) w.AddFloat32($"transformer.{m.Module}.lora_magnitude_vector", [m.Out], magnitude);
                    break;
                case LoraFormat.Kohya:
                    var stem = "lora_unet_" + m.Module.Replace('.', '_');
                    w.Add(stem + ".lora_down.weight", DType.BFloat16, [m.Rank, m.In], Bf16(m.Down));
                    w.Add(stem + ".lora_up.weight", DType.BFloat16, [m.Out, m.Rank], Bf16(m.Up));
                    w.AddFloat32(stem + ".alpha", [], [Alpha ?? m.Rank]);
                    if (magnitude != null) w.Add(stem + ".dora_scale", DType.BFloat16, [m.Out, 1], Bf16(magnitude));
                    break;
                case LoraFormat.AiToolkit:
                    w.AddFloat32($"diffusion_model.{m.Module}.lora_A.weight", [m.Rank, m.In], m.Down);
                    w.AddFloat32($"diffusion_model.{m.Module}.lora_B.weight", [m.Out, m.Rank], m.Up);
                    if (Alpha is { } a) w.AddFloat32($"diffusion_model.{m.Module}.alpha", [], [a]);
                    if (magnitude != null) w.AddFloat32($"diffusion_model.{m.Module}.dora_scale", [m.Out, 1], magnitude);
                    break;
            }
        }
        if (format == LoraFormat.Peft && Alpha is { } alpha)
            w.Metadata["lora_adapter_metadata"] = $"{{\"lora_alpha\": {alpha.ToString(CultureInfo.InvariantCulture)}, \"r\": {Layers[0].Rank}}}";
        w.Write(path);
    }

    public IEnumerable<(string Module, double[] Delta)> Deltas()
    {
        foreach (var m in Layers)
        {
            var delta = new double[m.Out * m.In];
            double scale = Scale(m, 1);
            for (int i = 0; i < m.Out; i++)
                for (int j = 0; j < m.In; j++)
                {
                    double sum = 0;
                    for (int c = 0; c < m.Rank; c++) sum += (double)m.Up[i * m.Rank + c] * m.Down[c * m.In + j];
                    delta[i * m.In + j] = scale * sum;
                }
            yield return (m.Module, delta);
        }
    }

    /// <summary>Writes <paramref name="checkpoint"/> with every Linear decoded to F32 (quantized ones as the GEMM decodes them),
    /// W + Σ strength·ΔW added for the modules of <paramref name="adapters"/>, quantization scales and metadata dropped.</summary>
    public static unsafe void Merge(string checkpoint, string target, params (ITestAdapter Adapter, float Strength)[] adapters)
    {
        var deltas = adapters.SelectMany(a => a.Adapter.Deltas().Select(d => (Name: d.Module + ".weight", d.Delta, a.Strength))).ToList();
        using var file = SafeTensorsCheckpoint.Open(checkpoint);
        var linears = LinearNames(file).ToHashSet();
        var w = new SafeTensorsWriter();
        foreach (var name in file.Names)
        {
            if (name.EndsWith("_scale", StringComparison.Ordinal) || name.EndsWith("_scale_2", StringComparison.Ordinal)) continue;
            var view = file.Get(name);
            if (!linears.Contains(name))
            {
                w.Add(name, view.DType, view.Shape, view.ToByteArray());
                continue;
            }
            var weight = LinearWeightLoader.Load(file, name);
            int n = weight.OutFeatures, k = weight.InFeatures;
            var values = new float[(long)n * k];
            fixed (float* p = values)
                for (int row = 0; row < n; row++) WeightRowDecoder.Decode(weight, row, 0, k, p + (long)row * k);
            foreach (var (_, delta, strength) in deltas.Where(d => d.Name == name))
                for (int e = 0; e < values.Length; e++) values[e] += (float)(strength * delta[e]);
            w.AddFloat32(name, [n, k], values);
        }
        w.Write(target);
    }

    /// <summary>The Linears of <paramref name="checkpoint"/> that <paramref name="select"/> accepts (all by default): module name
    /// (the weight's without <c>.weight</c>) and shape.</summary>
    public static IEnumerable<(string Module, int Out, int In)> Linears(string checkpoint, Func<string, bool>? select)
    {
        using var file = SafeTensorsCheckpoint.Open(checkpoint);
        foreach (var name in LinearNames(file))
        {
            var module = name[..^".weight".Length];
            if (select != null && !select(module)) continue;
            var w = LinearWeightLoader.Load(file, name);
            yield return (module, w.OutFeatures, w.InFeatures);
        }
    }

    /// <summary><paramref name="count"/> values uniform in ±<paramref name="amplitude"/>, rounded to bf16 so every file dtype
    /// holds them exactly.</summary>
    public static float[] Bf16Uniform(Random random, int count, float amplitude) =>
        Enumerable.Range(0, count).Select(_ => BFloat16Bits.ToFloat(BFloat16Bits.FromFloat((float)(random.NextDouble() * 2 - 1) * amplitude))).ToArray();

    /// <summary>The 2-D <c>.weight</c> tensors of a transformer checkpoint: its Linear weights (norms are 1-D).</summary>
    private static IEnumerable<string> LinearNames(SafeTensorsCheckpoint file) =>
        file.Names.Where(n => n.EndsWith(".weight", StringComparison.Ordinal) && file.Info(n).Shape.Length == 2);

    private static ushort[] Bf16(float[] values) => Array.ConvertAll(values, BFloat16Bits.FromFloat);
}
