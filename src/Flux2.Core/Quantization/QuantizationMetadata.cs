using System.Text;
using System.Text.Json;
using Flux2.Core.SafeTensors;

namespace Flux2.Core.Quantization;

/// <summary>
/// The <c>_quantization_metadata</c> entry of a safetensors header (spec §5.5): a JSON document stored as a
/// string, <c>{"format_version": "1.0", "layers": {"double_blocks.0.img_attn.qkv": {"format": "nvfp4"}, ...}}</c>,
/// keyed by BFL module names without ".weight".
/// </summary>
public static class QuantizationMetadata
{
    public const string Key = "_quantization_metadata";
    public const string Nvfp4Format = "nvfp4";
    public const string Fp8Format = "float8_e4m3fn";

    /// <summary>The layers tagged "nvfp4", unioned over every file of the checkpoint (empty when no file has the key).</summary>
    public static IReadOnlySet<string> ReadNvfp4Layers(SafeTensorsCheckpoint checkpoint)
    {
        var layers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in checkpoint.Files)
        {
            if (!file.Metadata.TryGetValue(Key, out var json)) continue;
            foreach (var (layer, format) in ParseLayers(json, file.FilePath))
                if (format == Nvfp4Format) layers.Add(layer);
        }
        return layers;
    }

    /// <summary>Layer name → format for every entry of <c>layers</c> that is an object with a string "format";
    /// other entries and fields are ignored (as MAX does).</summary>
    /// <param name="source">the file the JSON came from, for error messages</param>
    public static IReadOnlyDictionary<string, string> ParseLayers(string json, string source)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw Malformed(source, $"expected a JSON object, found {doc.RootElement.ValueKind}");
            if (!doc.RootElement.TryGetProperty("layers", out var layers)) return result;
            if (layers.ValueKind != JsonValueKind.Object)
                throw Malformed(source, $"'layers' must be an object, found {layers.ValueKind}");
            foreach (var layer in layers.EnumerateObject())
            {
                if (layer.Value.ValueKind == JsonValueKind.Object
                    && layer.Value.TryGetProperty("format", out var format) && format.ValueKind == JsonValueKind.String)
                    result[layer.Name] = format.GetString()!;
            }
        }
        catch (JsonException e)
        {
            throw Malformed(source, "not valid JSON: " + e.Message, e);
        }
        return result;
    }

    /// <summary>The JSON string to store under <see cref="Key"/> for the given layer → format map.</summary>
    public static string Build(IEnumerable<KeyValuePair<string, string>> layerFormats)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("format_version", "1.0");
            w.WriteStartObject("layers");
            foreach (var (layer, format) in layerFormats)
            {
                w.WriteStartObject(layer);
                w.WriteString("format", format);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(ms.ToArray());
    }

    private static SafeTensorsException Malformed(string source, string problem, Exception? inner = null) =>
        new(source, null, $"__metadata__ '{Key}' is malformed: {problem}", inner);
}
