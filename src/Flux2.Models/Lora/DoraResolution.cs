using System.Globalization;
using System.Numerics;
using Flux2.Core;
using Flux2.Core.Decoding;

namespace Flux2.Models.Lora;

/// <summary>
/// Resolves DoRA modules (see <see cref="WeightDecomposition"/>) against the stored weights they adapt. With
/// c = m / (‖W + ΔW‖ + ε) per output row and strength s, the decomposed weight W + s·(c ⊙ (W + ΔW) − W) is
/// (1 + s·(c − 1)) ⊙ W + s·c ⊙ ΔW: each module's Up rows are multiplied by s·c, and each adapted weight gets a gain per row,
/// 1 + Σ s·(c − 1) over the modules that adapt it, which the layer applies to x·Wᵀ. Each module is normalised against the
/// stored weight plus its own update, as PEFT combines adapters; W stays as stored.
/// </summary>
internal static class DoraResolution
{
    /// <summary>PyTorch's float32 epsilon, which LyCORIS adds to the norm.</summary>
    private const float NormEpsilon = 1.1920929e-7f;

    /// <summary><paramref name="module"/> with s·c folded into its Up rows and no decomposition left; its gains are multiplied
    /// into <paramref name="gains"/> (per weight, created at 1).</summary>
    /// <param name="storedWeight">a weight as stored, by tensor name without prefix (host memory, any format)</param>
    public static unsafe LoraModule Resolve(LoraModule module, Func<string, LinearWeight> storedWeight, Dictionary<string, float[]> gains)
    {
        var decomposition = module.Decomposition ?? throw new ArgumentException("the module has no DoRA magnitudes", nameof(module));
        float strength = decomposition.Strength;
        int rank = module.Rank, inFeatures = module.Target.InFeatures;
        var up = (float[])module.Up.Clone();
        foreach (var range in module.Target.Ranges)
        {
            var weight = storedWeight(range.Weight);
            if (!gains.TryGetValue(range.Weight, out var gain)) gains[range.Weight] = gain = Enumerable.Repeat(1f, weight.OutFeatures).ToArray();
            // The norms in parallel (a decoded weight row and the update's row each), then the folding in order.
            var c = new float[range.Rows];
            Parallel.For(0, range.Rows, () => new float[inFeatures], (r, _, row) =>
            {
                fixed (float* p = row) WeightRowDecoder.Decode(weight, range.TargetRow + r, 0, inFeatures, p);
                module.AddDeltaRow(range.SourceRow + r, row);
                c[r] = decomposition.Magnitude[range.SourceRow + r] / (Norm(row) + NormEpsilon);
                return row;
            }, _ => { });
            for (int r = 0; r < range.Rows; r++)
            {
                int source = range.SourceRow + r, target = range.TargetRow + r;
                foreach (ref float u in up.AsSpan(source * rank, rank))
                {
                    u *= strength * c[r];
                    if (!float.IsFinite(u * module.Scale)) throw OutOfRange(decomposition, module, source);
                }
                gain[target] += strength * (c[r] - 1);
                if (!float.IsFinite(gain[target])) throw OutOfRange(decomposition, module, source);
            }
        }
        return module with { Up = up, Decomposition = null };
    }

    /// <summary>Magnitudes so large against the weight's norm (or the norm so small) that the rescaled update or the gain is no
    /// float: the layer would run on infinities.</summary>
    private static LoraException OutOfRange(WeightDecomposition decomposition, LoraModule module, int row) =>
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
