using Flux2.Core;

namespace Flux2.Models.Lora;

/// <summary>
/// What the LoRAs add to one Linear weight W [out, in] of the transformer, kept factored as ΔW = Up·Down with Down
/// [rank, in] and Up [out, rank], each LoRA's scale folded into its columns of Up. Several LoRAs, and the parts of a split or
/// fused projection, are stacked along the rank: the model then runs y = x·Wᵀ + (x·Downᵀ)·Upᵀ as two small GEMMs and W
/// stays as stored. The factors live in pinned host memory until the backend makes them resident.
/// </summary>
public sealed class LowRankUpdate
{
    private readonly float[] _down, _up;

    /// <summary>The transformer weight this update belongs to (tensor name without prefix).</summary>
    public string Weight { get; }
    public int Rank { get; }
    public int OutFeatures { get; }
    public int InFeatures { get; }

    /// <summary>[Rank, InFeatures], row-major.</summary>
    public ReadOnlySpan<float> Down => _down;

    /// <summary>[OutFeatures, Rank], row-major, scales included.</summary>
    public ReadOnlySpan<float> Up => _up;

    private LowRankUpdate(string weight, int rank, int outFeatures, int inFeatures)
    {
        Weight = weight;
        Rank = rank;
        OutFeatures = outFeatures;
        InFeatures = inFeatures;
        _down = GC.AllocateArray<float>(checked(rank * inFeatures), pinned: true);
        _up = GC.AllocateArray<float>(checked(outFeatures * rank), pinned: true);
    }

    /// <summary>Down as a Linear weight over host memory, Float32 or rounded to BFloat16 (see <see cref="FactorWeight"/>).</summary>
    public LinearWeight DownWeight(WeightFormat format = WeightFormat.Float32) => FactorWeight.Of($"{Weight} (LoRA down)", Rank, InFeatures, _down, format);

    /// <summary>Up as a Linear weight over host memory, Float32 or rounded to BFloat16.</summary>
    public LinearWeight UpWeight(WeightFormat format = WeightFormat.Float32) => FactorWeight.Of($"{Weight} (LoRA up)", OutFeatures, Rank, _up, format);

    /// <summary>Stacks the parts of <paramref name="modules"/> that land in <paramref name="weight"/> [out, in]: each module
    /// adds its rank once, with its A as rows of Down and its scaled B rows at their rows of Up (zero elsewhere).</summary>
    internal static LowRankUpdate Stack(string weight, int outFeatures, int inFeatures, IReadOnlyList<LoraModule> modules)
    {
        var update = new LowRankUpdate(weight, modules.Sum(m => m.Rank), outFeatures, inFeatures);
        int column = 0;
        foreach (var m in modules)
        {
            m.Down.CopyTo(update._down, column * inFeatures);
            foreach (var range in m.Target.Ranges.Where(r => r.Weight == weight))
            {
                for (int row = 0; row < range.Rows; row++)
                {
                    var source = m.Up.AsSpan((range.SourceRow + row) * m.Rank, m.Rank);
                    var target = update._up.AsSpan((range.TargetRow + row) * update.Rank + column, m.Rank);
                    for (int c = 0; c < m.Rank; c++) target[c] = m.Scale * source[c];
                }
            }
            column += m.Rank;
        }
        return update;
    }
}
