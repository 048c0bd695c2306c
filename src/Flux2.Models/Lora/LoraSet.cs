using Flux2.Models.Transformer;

namespace Flux2.Models.Lora;

/// <summary>LoRA files resolved against one transformer: for every Linear weight they adapt, the stacked low-rank update
/// of all their LoRA and LoHa modules (see <see cref="LowRankUpdate"/>) and the Kronecker updates of their LoKr modules
/// (see <see cref="KroneckerUpdate"/>).</summary>
public sealed class LoraSet
{
    /// <summary>The update of each adapted weight, by its tensor name without prefix (a <see cref="Flux2TensorNames"/> name).</summary>
    public IReadOnlyDictionary<string, LowRankUpdate> Updates { get; }

    /// <summary>The LoKr updates of each adapted weight, by its tensor name without prefix, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KroneckerUpdate>> Kronecker { get; }

    /// <summary>The files, in the order given.</summary>
    public IReadOnlyList<LoraFile> Files { get; }

    /// <summary>What lenient loading skipped, one line per file.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The widest side-path intermediate per input row: the largest stacked rank or LoKr B·C (sizes the side path's
    /// scratch buffer).</summary>
    public int ScratchWidth => Updates.Values.Select(u => u.Rank).Concat(Kronecker.Values.SelectMany(k => k).Select(k => k.ScratchWidth))
        .DefaultIfEmpty(0).Max();

    private LoraSet(IReadOnlyList<LoraFile> files, IReadOnlyDictionary<string, LowRankUpdate> updates,
        IReadOnlyDictionary<string, IReadOnlyList<KroneckerUpdate>> kronecker, IReadOnlyList<string> warnings)
    {
        Files = files;
        Updates = updates;
        Kronecker = kronecker;
        Warnings = warnings;
    }

    /// <summary>Reads <paramref name="files"/> for a transformer with <paramref name="config"/> whose checkpoint uses
    /// <paramref name="naming"/>; any of the LoRA formats fits either naming.</summary>
    /// <param name="lenient">skip tensors that adapt no layer, with a warning, instead of refusing the file</param>
    /// <exception cref="LoraException">a file does not fit the transformer (see <see cref="LoraFileReader"/>)</exception>
    public static LoraSet Load(IReadOnlyList<LoraFile> files, Flux2Config config, TensorNaming naming, bool lenient)
    {
        var targets = LoraTargets.For(config, naming);
        var warnings = new List<string>();
        var modules = files.SelectMany(f => LoraFileReader.Read(f, targets, lenient, warnings)).ToList();
        var updates = ByWeight(modules.OfType<LoraModule>())
            .Select(g =>
            {
                var (outFeatures, inFeatures) = targets.WeightShape(g.Key);
                return LowRankUpdate.Stack(g.Key, outFeatures, inFeatures, g.ToList());
            })
            .ToDictionary(u => u.Weight, StringComparer.Ordinal);
        var kronecker = ByWeight(modules.OfType<KroneckerModule>())
            .ToDictionary(g => g.Key, g => (IReadOnlyList<KroneckerUpdate>)g.Select(m => KroneckerUpdate.For(g.Key, m)).ToList(), StringComparer.Ordinal);
        return new LoraSet([.. files], updates, kronecker, warnings);
    }

    /// <summary>The modules grouped by each transformer weight their outputs land in (a fused or split module in several).</summary>
    private static IEnumerable<IGrouping<string, T>> ByWeight<T>(IEnumerable<T> modules) where T : AdapterModule =>
        modules.SelectMany(m => m.Target.Ranges.Select(r => r.Weight).Distinct().Select(weight => (weight, m)))
            .GroupBy(x => x.weight, x => x.m, StringComparer.Ordinal);
}
