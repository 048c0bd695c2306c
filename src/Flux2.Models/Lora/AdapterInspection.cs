using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;

namespace Flux2.Models.Lora;

/// <summary>How well an adapter file fits one FLUX.2 model.</summary>
public enum AdapterFitLevel
{
    /// <summary>Every tensor adapts a layer of the model.</summary>
    Fits,
    /// <summary>Some tensors adapt no layer of the model; lenient loading (<c>--lora-lenient</c>) skips them.</summary>
    FitsLeniently,
    /// <summary>The file cannot be applied to the model.</summary>
    DoesNotFit,
}

/// <param name="Model">klein-4B, klein-9B or dev</param>
/// <param name="Layers">the model's Linear weights it adapts (BFL naming; 0 when it does not fit)</param>
/// <param name="Detail">why it does not fit, or what lenient loading skips</param>
public sealed record AdapterFit(string Model, AdapterFitLevel Level, int Layers, string? Detail);

/// <param name="Kind">LoRA, LoHa or LoKr</param>
/// <param name="Sizes">the distinct ranks (LoRA, LoHa) or first-half rows, the Kronecker factor (LoKr)</param>
/// <param name="Spellings">the key spellings found: diffusers / PEFT, kohya, BFL / ComfyUI, LyCORIS</param>
/// <param name="Decomposed">how many of the modules have DoRA magnitudes</param>
public sealed record AdapterModules(string Kind, int Modules, IReadOnlyList<int> Sizes, IReadOnlyList<string> Spellings, int Decomposed);

/// <summary>
/// What a LoRA or LyCORIS file holds and which FLUX.2 model it is for, without a model: its modules by kind, their ranks
/// (or LoKr factors) and key spellings, the tensors that are no adapter tensor, and whether it fits klein-4B, klein-9B and
/// dev (read as the transformer would read it).
/// </summary>
public sealed class AdapterInspection
{
    private const int ListedNames = 5;

    public required string Path { get; init; }
    public required long Bytes { get; init; }
    public required int Tensors { get; init; }
    public required IReadOnlyList<AdapterModules> Modules { get; init; }
    /// <summary>Up to five tensors that are no LoRA, LoHa or LoKr tensor (Tucker cores, LoCon mid weights, ...).</summary>
    public required IReadOnlyList<string> OtherTensors { get; init; }
    public required int OtherTensorCount { get; init; }
    public required IReadOnlyList<AdapterFit> Fits { get; init; }

    /// <summary>Whether <paramref name="path"/> is a readable .safetensors file of adapter tensors (see
    /// <see cref="LoraKey.LooksLikeAdapter"/>); an unreadable one is left to the checkpoint inspection to report.</summary>
    public static bool IsAdapterFile(string path)
    {
        if (!File.Exists(path) || !path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)) return false;
        try
        {
            using var file = SafeTensorsFile.Open(path);
            return LoraKey.LooksLikeAdapter(file.Names);
        }
        catch (SafeTensorsException)
        {
            return false;
        }
    }

    /// <exception cref="SafeTensorsException">the file cannot be read</exception>
    public static AdapterInspection Inspect(string path)
    {
        var modules = new Dictionary<string, (string Kind, int? Size, string Spelling)>(StringComparer.Ordinal);
        var other = new List<string>();
        var decomposed = new HashSet<string>(StringComparer.Ordinal);
        long bytes;
        int tensors;
        using (var file = SafeTensorsFile.Open(path))
        {
            bytes = file.FileLength;
            tensors = file.Names.Count;
            foreach (var name in file.Names)
            {
                if (LoraKey.Parse(name) is not { } key)
                {
                    other.Add(name);
                    continue;
                }
                if (key.Role == LoraTensorRole.Magnitude) decomposed.Add(key.Module);
                if (LoraKey.KindOf(key.Role) is not { } kind) continue;
                // The rank of a pair or LoHa, the factor of a LoKr: the rows of the tensor that has them.
                bool sized = key.Role is LoraTensorRole.Down or LoraTensorRole.HadaW1B or LoraTensorRole.LokrW1 or LoraTensorRole.LokrW1A;
                int? size = sized && file.Get(name).Shape is [var rows, _] ? (int)Math.Min(rows, int.MaxValue) : null;
                modules[key.Module] = modules.TryGetValue(key.Module, out var known)
                    ? (known.Kind, known.Size ?? size, known.Spelling)
                    : (kind.ToString(), size, Spelling(name));
            }
        }
        var summaries = modules.GroupBy(m => m.Value.Kind)
            .Select(g => new AdapterModules(g.Key, g.Count(), g.Select(m => m.Value.Size).OfType<int>().Distinct().Order().ToList(),
                g.Select(m => m.Value.Spelling).Distinct().Order().ToList(), g.Count(m => decomposed.Contains(m.Key))))
            .OrderBy(m => m.Kind, StringComparer.Ordinal).ToList();
        return new AdapterInspection
        {
            Path = path, Bytes = bytes, Tensors = tensors, Modules = summaries, OtherTensors = other.Take(ListedNames).ToList(), OtherTensorCount = other.Count,
            Fits = [Fit(path, "klein-4B", Flux2Config.Klein4B()), Fit(path, "klein-9B", Flux2Config.Klein9B()), Fit(path, "dev", Flux2Config.Dev())],
        };
    }

    /// <summary>The file read for <paramref name="config"/> as the transformer reads it: strictly, else leniently.</summary>
    private static AdapterFit Fit(string path, string model, Flux2Config config)
    {
        var files = new[] { new LoraFile(path) };
        try
        {
            return new AdapterFit(model, AdapterFitLevel.Fits, Layers(LoraSet.Load(files, config, TensorNaming.Bfl, lenient: false)), null);
        }
        catch (LoraException strict)
        {
            try
            {
                var set = LoraSet.Load(files, config, TensorNaming.Bfl, lenient: true);
                return new AdapterFit(model, AdapterFitLevel.FitsLeniently, Layers(set), string.Join("; ", set.Warnings));
            }
            catch (LoraException)
            {
                return new AdapterFit(model, AdapterFitLevel.DoesNotFit, 0, strict.Message);
            }
        }
    }

    private static int Layers(LoraSet set) => set.AdaptedWeights.Count;

    private static string Spelling(string name) =>
        name.StartsWith("lycoris_", StringComparison.Ordinal) ? "LyCORIS"
        : name.StartsWith("lora_unet_", StringComparison.Ordinal) || name.StartsWith("lora_transformer_", StringComparison.Ordinal) ? "kohya"
        : name.StartsWith("diffusion_model.", StringComparison.Ordinal) || name.StartsWith("model.diffusion_model.", StringComparison.Ordinal) ? "BFL / ComfyUI"
        : name.StartsWith("transformer.", StringComparison.Ordinal) || name.StartsWith("base_model.model.", StringComparison.Ordinal) ? "diffusers / PEFT"
        : "unprefixed";
}
