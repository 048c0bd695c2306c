using Flux2.Core.SafeTensors;

namespace Flux2.Models.Lora;

/// <summary>Reads one LoRA file into its modules (LoRA pairs, LyCORIS LoHa and LoKr), each resolved to the transformer layer it
/// adapts and checked against that layer's shape.</summary>
internal static class LoraFileReader
{
    /// <summary>How many skipped tensor names a message lists before it counts the rest.</summary>
    private const int ListedNames = 5;

    /// <param name="lenient">tensors that adapt no layer become a warning in <paramref name="warnings"/> instead of an error</param>
    /// <exception cref="LoraException">unmatched tensors (unless lenient), nothing that applies, a pair without its other half,
    /// a shape that does not fit its layer</exception>
    public static List<AdapterModule> Read(LoraFile lora, LoraTargets targets, bool lenient, List<string> warnings)
    {
        var path = lora.Path;
        if (!float.IsFinite(lora.Scale)) throw new LoraException($"{path}: the LoRA scale must be a finite number, found {lora.Scale}");
        using var file = SafeTensorsFile.Open(path);
        var alphas = PeftAlphas.Read(file.Metadata, path);
        var skipped = new List<string>();
        var byModule = new Dictionary<string, (LoraModuleTarget Target, Dictionary<LoraTensorRole, string> Tensors)>(StringComparer.Ordinal);
        foreach (var name in file.Names)
        {
            if (LoraKey.Parse(name) is not { } key || targets.Find(key.Module) is not { } target)
            {
                skipped.Add(name);
                continue;
            }
            if (!byModule.TryGetValue(target.Module, out var entry)) byModule[target.Module] = entry = (target, []);
            if (!entry.Tensors.TryAdd(key.Role, name))
                throw new LoraException($"{path}: tensors '{entry.Tensors[key.Role]}' and '{name}' are both the {LoraModuleTensors.Describe(key.Role)} of '{target.Module}'");
        }
        if (skipped.Count > 0)
        {
            var (tensors, adapt) = skipped.Count == 1 ? ("1 tensor", "adapts") : ($"{skipped.Count} tensors", "adapt");
            var listed = string.Join(", ", skipped.Take(ListedNames).Select(n => $"'{n}'")) + (skipped.Count > ListedNames ? $" and {skipped.Count - ListedNames} more" : "");
            if (!lenient)
                throw new LoraException($"{path}: {tensors} {adapt} no layer of this transformer: {listed} (a LoRA for another model, " +
                    $"blocks this transformer lacks or tensors that are no low-rank pair); lenient loading skips them");
            warnings.Add($"{path}: skipped {tensors} that {adapt} no layer of this transformer: {listed}");
        }
        if (byModule.Count == 0) throw new LoraException($"{path}: no tensor adapts a layer of this transformer; is it a FLUX.2 LoRA?");
        return byModule.Values.Select(m => ReadModule(new LoraModuleTensors(file, m.Target, m.Tensors), lora.Scale, alphas)).ToList();
    }

    /// <summary>The module as the adapter kind its tensors name: a LoRA pair, a LoHa or a LoKr, with its DoRA magnitudes if it
    /// has them (its update is then read at strength 1, the strength applying to the decomposed weight).</summary>
    private static AdapterModule ReadModule(LoraModuleTensors m, float strength, PeftAlphas alphas)
    {
        var kinds = m.Roles.Select(LoraKey.KindOf).OfType<AdapterKind>().Distinct().Order().ToList();
        if (kinds.Count > 1)
            throw new LoraException($"{m.Path}: '{m.Module}' has tensors of more than one adapter kind ({string.Join(", ", kinds)}); one module is one kind");
        var decomposition = m.Has(LoraTensorRole.Magnitude) ? new WeightDecomposition(m.Magnitude(), strength, m.Path) : null;
        float updateStrength = decomposition == null ? strength : 1f;
        // A module of an alpha or a magnitude alone is read as a pair, which names the tensors it lacks.
        AdapterModule module = kinds.FirstOrDefault() switch
        {
            AdapterKind.LoHa => LohaReader.Read(m, updateStrength, alphas),
            AdapterKind.LoKr => LokrReader.Read(m, updateStrength, alphas),
            _ => ReadPair(m, updateStrength, alphas),
        };
        return module with { Decomposition = decomposition };
    }

    private static LoraModule ReadPair(LoraModuleTensors m, float strength, PeftAlphas alphas)
    {
        var target = m.Target;
        var (down, rank, _) = m.Matrix(LoraTensorRole.Down, null, target.InFeatures, $"the down weight of '{target.Module}'",
            $"[rank, {target.InFeatures}] (the layer's input features)");
        var (up, _, _) = m.Matrix(LoraTensorRole.Up, target.OutFeatures, rank, $"the up weight of '{target.Module}'",
            $"[{target.OutFeatures}, {rank}] (the layer's outputs by the rank of '{m.Name(LoraTensorRole.Down)}')");
        double alpha = m.Alpha(alphas) ?? rank;
        float scale = m.FiniteScale(alpha / rank * strength, $"alpha / rank · strength = {alpha} / {rank} · {strength}");
        m.RequireFinite(up, scale, "the scaled up weight");
        return new LoraModule(target, rank, down, up, scale);
    }
}
