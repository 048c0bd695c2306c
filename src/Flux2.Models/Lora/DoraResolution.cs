using System.Globalization;
using System.Numerics;
using Flux2.Core;
using Flux2.Core.Decoding;

namespace Flux2.Models.Lora;

/// <summary>
/// Resolves DoRA modules (see <see cref="WeightDecomposition"/>) against the stored weights they adapt. With
/// c = m / (‖W + ΔW‖ + ε) per output row and strength s, the decomposed weight W + s·(c ⊙ (W + ΔW) − W) is
/// (1 + s·(c − 1)) ⊙ W + s·c ⊙ ΔW: each module's outputs are multiplied by s·c (a LoRA's or LoHa's Up rows, a LoKr's output
/// scales), and each adapted weight gets a gain per row, 1 + Σ s·(c − 1) over the modules that adapt it, which the layer
/// applies to x·Wᵀ. Each module is normalised against the stored weight plus its own update, as PEFT combines adapters; W
/// stays as stored.
/// </summary>
internal static class DoraResolution
{
    /// <summary>PyTorch's float32 epsilon, which LyCORIS adds to the norm.</summary>
    private const float NormEpsilon = 1.1920929e-7f;

    /// <summary><paramref name="module"/> with s·c folded into its outputs and no decomposition left; its gains are added
    /// into <paramref name="gains"/> (per weight, created at 1).</summary>
    /// <param name="storedWeight">a weight as stored, by tensor name without prefix (host memory, any format)</param>
    public static AdapterModule Resolve(AdapterModule module, Func<string, LinearWeight> storedWeight, Dictionary<string, float[]> gains)
    {
        var decomposition = module.Decomposition ?? throw new ArgumentException("the module has no DoRA magnitudes", nameof(module));
        float strength = decomposition.Strength;
        // s·c per output of the module; rows that land in no weight keep 1.
        var scales = Enumerable.Repeat(1f, module.Target.OutFeatures).ToArray();
        foreach (var range in module.Target.Ranges)
        {
            var weight = storedWeight(range.Weight);
            if (!gains.TryGetValue(range.Weight, out var gain)) gains[range.Weight] = gain = Enumerable.Repeat(1f, weight.OutFeatures).ToArray();
            var c = RowScales(module, decomposition, weight, range);
            for (int r = 0; r < range.Rows; r++)
            {
                int source = range.SourceRow + r, target = range.TargetRow + r;
                scales[source] = strength * c[r];
                gain[target] += strength * (c[r] - 1);
                if (!float.IsFinite(gain[target])) throw OutOfRange(decomposition, module, source);
            }
        }
        return module switch
        {
            LoraModule lora => lora with { Up = ScaledUp(lora, scales, decomposition), Decomposition = null },
            KroneckerModule kronecker => kronecker with { OutputScales = CheckedScales(kronecker, scales, decomposition), Decomposition = null },
            _ => throw new ArgumentException($"no DoRA for {module.GetType().Name}", nameof(module)),
        };
    }

    /// <summary>c = m / (‖W + ΔW‖ + ε) for the rows of <paramref name="range"/>: a decoded weight row plus the update's row each,
    /// in parallel.</summary>
    private static unsafe float[] RowScales(AdapterModule module, WeightDecomposition decomposition, LinearWeight weight, LoraRowRange range)
    {
        int inFeatures = module.Target.InFeatures;
        var c = new float[range.Rows];
        Parallel.For(0, range.Rows, () => new float[inFeatures], (r, _, row) =>
        {
            fixed (float* p = row) WeightRowDecoder.Decode(weight, range.TargetRow + r, 0, inFeatures, p);
            module.AddDeltaRow(range.SourceRow + r, row);
            c[r] = decomposition.Magnitude[range.SourceRow + r] / (Norm(row) + NormEpsilon);
            return row;
        }, _ => { });
        return c;
    }

    private static float[] ScaledUp(LoraModule module, float[] scales, WeightDecomposition decomposition)
    {
        var up = (float[])module.Up.Clone();
        for (int row = 0; row < module.Target.OutFeatures; row++)
            foreach (ref float u in up.AsSpan(row * module.Rank, module.Rank))
            {
                u *= scales[row];
                if (!float.IsFinite(u * module.Scale)) throw OutOfRange(decomposition, module, row);
            }
        return up;
    }

    /// <summary>The scales, refused where an output's largest term, |scale|·max|A|·max|B|, is no float.</summary>
    private static float[] CheckedScales(KroneckerModule module, float[] scales, WeightDecomposition decomposition)
    {
        float largest = MaxAbs(module.First) * MaxAbs(module.Second);
        for (int row = 0; row < scales.Length; row++)
            if (!float.IsFinite(scales[row] * largest)) throw OutOfRange(decomposition, module, row);
        return scales;
    }

    private static float MaxAbs(float[] values) => values.Length == 0 ? 0 : values.Max(MathF.Abs);

    /// <summary>Magnitudes so large against the weight's norm (or the norm so small) that the rescaled update or the gain is no
    /// float: the layer would run on infinities.</summary>
    private static LoraException OutOfRange(WeightDecomposition decomposition, AdapterModule module, int row) =>
        new($"{decomposition.Path}: '{module.Target.Module}': the DoRA magnitude of output {row} " +
            $"({decomposition.Magnitude[row].ToString(CultureInfo.InvariantCulture)}) over the norm of its weight row leaves the float range " +
            "when applied; the magnitudes do not fit this model's weights");

    private static float Norm(ReadOnlySpan<float> x)
    {
        var sum = Vector<float>.Zero;
        int i = 0;
        for (; i + Vector<float>.Count <= x.Length; i += Vector<float>.Count)
        {
            var v = new Vector<float>(x[i..]);
            sum += v * v;
        }
        double total = Vector.Sum(sum);
        for (; i < x.Length; i++) total += (double)x[i] * x[i];
        return (float)Math.Sqrt(total);
    }
}
