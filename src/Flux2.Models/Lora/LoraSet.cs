using Flux2.Core;
using Flux2.Models.Transformer;

namespace Flux2.Models.Lora;

/// <summary>LoRA files resolved against one transformer: for every Linear weight they adapt, the stacked low-rank update
/// of all their LoRA and LoHa modules (see <see cref="LowRankUpdate"/>) and the Kronecker updates of their LoKr modules
/// (see <see cref="KroneckerUpdate"/>). DoRA modules need the weights they adapt (<see cref="HasWeightDecomposition"/>): the
/// transformer resolves them when it uses the set, adding them to <see cref="Updates"/> with a gain per output row.</summary>
public sealed class LoraSet
{
    private readonly LoraTargets _targets;
    private readonly IReadOnlyList<AdapterModule> _modules;

    /// <summary>The update of each adapted weight, by its tensor name without prefix (a <see cref="Flux2TensorNames"/> name);
    /// DoRA modules are in it only once resolved.</summary>
    public IReadOnlyDictionary<string, LowRankUpdate> Updates { get; }

    /// <summary>The LoKr updates of each adapted weight, by its tensor name without prefix, in file order.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<KroneckerUpdate>> Kronecker { get; }

    /// <summary>The files, in the order given.</summary>
    public IReadOnlyList<LoraFile> Files { get; }

    /// <summary>What lenient loading skipped, one line per file.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>Whether some modules have DoRA magnitudes still to be resolved against the weights they adapt.</summary>
    public bool HasWeightDecomposition => _modules.Any(m => m.Decomposition != null);

    /// <summary>Every weight a module adapts, by its tensor name without prefix.</summary>
    public IReadOnlySet<string> AdaptedWeights { get; }

    /// <summary>Resolved DoRA modules' gain per output row of each weight they adapt (see <see cref="DoraResolution"/>).</summary>
    internal IReadOnlyDictionary<string, float[]> Gains { get; }

    /// <summary>The widest side-path intermediate per input row: the largest stacked rank or LoKr B·C (sizes the side path's
    /// scratch buffer).</summary>
    public int ScratchWidth => Updates.Values.Select(u => u.Rank).Concat(Kronecker.Values.SelectMany(k => k).Select(k => k.ScratchWidth))
        .DefaultIfEmpty(0).Max();

    private LoraSet(IReadOnlyList<LoraFile> files, LoraTargets targets, IReadOnlyList<AdapterModule> modules, IReadOnlyList<string> warnings,
        IReadOnlyDictionary<string, float[]> gains)
    {
        Files = files;
        _targets = targets;
        _modules = modules;
        Warnings = warnings;
        Gains = gains;
        var plain = modules.Where(m => m.Decomposition == null).ToList();
        Updates = ByWeight(plain.OfType<LoraModule>())
            .Select(g =>
            {
                var (outFeatures, inFeatures) = targets.WeightShape(g.Key);
                return LowRankUpdate.Stack(g.Key, outFeatures, inFeatures, g.ToList());
            })
            .ToDictionary(u => u.Weight, StringComparer.Ordinal);
        Kronecker = ByWeight(plain.OfType<KroneckerModule>())
            .ToDictionary(g => g.Key, g => (IReadOnlyList<KroneckerUpdate>)g.Select(m => KroneckerUpdate.For(g.Key, m)).ToList(), StringComparer.Ordinal);
        AdaptedWeights = ByWeight(modules).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
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
        return new LoraSet([.. files], targets, modules, warnings, new Dictionary<string, float[]>(StringComparer.Ordinal));
    }

    /// <summary>The set with its DoRA modules resolved against <paramref name="storedWeight"/> (each weight as stored, by its
    /// tensor name without prefix): their updates stacked with the others and their gains in <see cref="Gains"/>.</summary>
    internal LoraSet ResolveWeightDecomposition(Func<string, LinearWeight> storedWeight)
    {
        var gains = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var modules = _modules.Select(m => m.Decomposition == null ? m : DoraResolution.Resolve(m, storedWeight, gains)).ToList();
        return new LoraSet(Files, _targets, modules, Warnings, gains);
    }

    /// <summary>The modules grouped by each transformer weight their outputs land in (a fused or split module in several).</summary>
    private static IEnumerable<IGrouping<string, T>> ByWeight<T>(IEnumerable<T> modules) where T : AdapterModule =>
        modules.SelectMany(m => m.Target.Ranges.Select(r => r.Weight).Distinct().Select(weight => (weight, m)))
            .GroupBy(x => x.weight, x => x.m, StringComparer.Ordinal);
}
