using System.Text.Json;

namespace Flux2.Models.Lora;

/// <summary>
/// The alphas a diffusers / PEFT LoRA file keeps in its safetensors metadata instead of <c>.alpha</c> tensors: the
/// <c>lora_adapter_metadata</c> JSON holds PEFT's <c>lora_alpha</c> and per-module <c>alpha_pattern</c> (keys prefixed
/// <c>transformer.</c> when the pipeline saved it). Without them a PEFT adapter's alpha is its rank (scale 1).
/// </summary>
internal sealed class PeftAlphas
{
    private const string MetadataKey = "lora_adapter_metadata";

    private readonly double? _default;
    private readonly IReadOnlyList<(string Pattern, double Alpha)> _patterns;

    private PeftAlphas(double? defaultAlpha, IReadOnlyList<(string, double)> patterns)
    {
        _default = defaultAlpha;
        _patterns = patterns;
    }

    /// <summary>The alphas in <paramref name="metadata"/>, if any.</summary>
    /// <exception cref="LoraException">the metadata entry is not the JSON PEFT writes</exception>
    public static PeftAlphas Read(IReadOnlyDictionary<string, string> metadata, string path)
    {
        if (!metadata.TryGetValue(MetadataKey, out var json)) return new PeftAlphas(null, []);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new JsonException("not an object");
            var root = doc.RootElement;
            double? alpha = Property(root, "lora_alpha") is { } a ? Number(a, "lora_alpha") : null;
            var patterns = new List<(string, double)>();
            if (Property(root, "alpha_pattern") is { ValueKind: JsonValueKind.Object } p)
                foreach (var entry in p.EnumerateObject()) patterns.Add((entry.Name, Number(entry.Value, "alpha_pattern." + entry.Name)));
            return new PeftAlphas(alpha, patterns);
        }
        catch (JsonException e)
        {
            throw new LoraException($"{path}: metadata '{MetadataKey}' is not valid PEFT adapter JSON ({e.Message})");
        }
    }

    /// <summary>The alpha of <paramref name="module"/> (a name without wrapping prefixes), or null when the metadata gives none.</summary>
    public double? For(string module)
    {
        foreach (var (pattern, alpha) in _patterns)
            if (module == pattern || module.EndsWith("." + pattern, StringComparison.Ordinal)) return alpha;
        return _default;
    }

    private static JsonElement? Property(JsonElement root, string name) =>
        root.TryGetProperty(name, out var v) || root.TryGetProperty("transformer." + name, out v) ? v : null;

    private static double Number(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d)
            ? d
            : throw new JsonException($"{what} must be a finite number, found {value.GetRawText()}");
}
