using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Lora;

/// <summary>Reads one LoRA file into its modules, each resolved to the transformer layer it adapts and checked against
/// that layer's shape.</summary>
internal static class LoraFileReader
{
    /// <summary>How many skipped tensor names a message lists before it counts the rest.</summary>
    private const int ListedNames = 5;

    /// <param name="lenient">tensors that adapt no layer become a warning in <paramref name="warnings"/> instead of an error</param>
    /// <exception cref="LoraException">unmatched tensors (unless lenient), nothing that applies, a pair without its other half,
    /// a shape that does not fit its layer</exception>
    public static List<LoraModule> Read(LoraFile lora, LoraTargets targets, bool lenient, List<string> warnings)
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
                throw new LoraException($"{path}: tensors '{entry.Tensors[key.Role]}' and '{name}' are both the {Describe(key.Role)} of '{target.Module}'");
        }
        if (skipped.Count > 0)
        {
            var (tensors, adapt) = skipped.Count == 1 ? ("1 tensor", "adapts") : ($"{skipped.Count} tensors", "adapt");
            var listed = string.Join(", ", skipped.Take(ListedNames).Select(n => $"'{n}'")) + (skipped.Count > ListedNames ? $" and {skipped.Count - ListedNames} more" : "");
            if (!lenient)
                throw new LoraException($"{path}: {tensors} {adapt} no layer of this transformer: {listed} (a LoRA for another model, " +
                    "blocks this transformer lacks or tensors that are no low-rank pair); lenient loading skips them");
            warnings.Add($"{path}: skipped {tensors} that {adapt} no layer of this transformer: {listed}");
        }
        if (byModule.Count == 0) throw new LoraException($"{path}: no tensor adapts a layer of this transformer; is it a FLUX.2 LoRA?");
        return byModule.Values.Select(m => ReadModule(file, m.Target, m.Tensors, lora.Scale, alphas)).ToList();
    }

    private static LoraModule ReadModule(SafeTensorsFile file, LoraModuleTarget target, Dictionary<LoraTensorRole, string> tensors, float strength,
        PeftAlphas peftAlphas)
    {
        var path = file.FilePath;
        string downName = Require(LoraTensorRole.Down), upName = Require(LoraTensorRole.Up);
        var down = file.Get(downName);
        var up = file.Get(upName);
        RequireFloat(down);
        RequireFloat(up);
        if (down.Shape.Length != 2 || down.Shape[0] < 1 || down.Shape[1] != target.InFeatures)
            throw new LoraException($"{path}: tensor '{downName}': the down weight of '{target.Module}' must be [rank, {target.InFeatures}] " +
                $"(the layer's input features), found {down.Info.ShapeText}");
        int rank = checked((int)down.Shape[0]);
        if (up.Shape.Length != 2 || up.Shape[0] != target.OutFeatures || up.Shape[1] != rank)
            throw new LoraException($"{path}: tensor '{upName}': the up weight of '{target.Module}' must be [{target.OutFeatures}, {rank}] " +
                $"(the layer's outputs by the rank of '{downName}'), found {up.Info.ShapeText}");

        double alpha = rank;
        if (tensors.TryGetValue(LoraTensorRole.Alpha, out var alphaName))
        {
            var view = file.Get(alphaName);
            var values = view.ToFloat32Array();
            if (values.Length != 1 || !float.IsFinite(values[0]))
                throw new LoraException($"{path}: tensor '{alphaName}': alpha must be one finite number, found {view.Info.ShapeText} {view.DType.SafetensorsName()}");
            alpha = values[0];
        }
        else if (peftAlphas.For(target.Module) is { } metadataAlpha)
        {
            alpha = metadataAlpha;
        }
        float scale = (float)(alpha / rank * strength);
        if (!float.IsFinite(scale))
            throw new LoraException($"{path}: '{target.Module}': alpha / rank · strength = {alpha} / {rank} · {strength} is not a finite float");
        return new LoraModule(target, rank, FiniteValues(down), FiniteValues(up), scale);

        string Require(LoraTensorRole role) => tensors.TryGetValue(role, out var name) ? name
            : throw new LoraException($"{path}: '{target.Module}' has {string.Join(" and ", tensors.Values.Select(n => $"'{n}'"))} but no {Describe(role)}");
    }

    private static void RequireFloat(TensorView view)
    {
        if (view.DType is not (DType.Float32 or DType.BFloat16 or DType.Float16 or DType.Float64))
            throw new LoraException($"{view.FilePath}: tensor '{view.Name}': LoRA weights must be F32, BF16, F16 or F64, found {view.DType.SafetensorsName()}");
    }

    /// <summary>The tensor's values as floats, refused when one is NaN or infinite (also after an F64 value overflows the
    /// float): it would spread through every product its layer takes part in and leave nothing of the image.</summary>
    private static float[] FiniteValues(TensorView view)
    {
        var values = view.ToFloat32Array();
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0)
            throw new LoraException($"{view.FilePath}: tensor '{view.Name}': element {bad} (row {bad / view.Shape[1]}, column {bad % view.Shape[1]}) " +
                $"is {values[bad].ToString(System.Globalization.CultureInfo.InvariantCulture)}; LoRA weights must be finite numbers");
        return values;
    }

    private static string Describe(LoraTensorRole role) => role switch
    {
        LoraTensorRole.Down => "down weight (lora_A / lora_down)",
        LoraTensorRole.Up => "up weight (lora_B / lora_up)",
        _ => "alpha",
    };
}
