using System.Text.Json;
using Flux2.Models.Lora;

namespace Flux2.Cli;

/// <summary><c>flux2 info</c> on a LoRA / LyCORIS file: what it holds and which models it fits, as text or JSON.</summary>
public static class AdapterInfoWriter
{
    public static void WriteText(AdapterInspection a, TextWriter w)
    {
        InfoTextWriter.Line(w, 0, "path", a.Path);
        InfoTextWriter.Line(w, 0, "layout", "adapter (LoRA / LyCORIS) safetensors file");
        InfoTextWriter.Line(w, 0, "total", $"{a.Tensors} tensors, {InfoReport.Bytes(a.Bytes)} ({a.Bytes} bytes)");
        foreach (var m in a.Modules)
            InfoTextWriter.Line(w, 0, m.Kind, $"{Count(m.Modules, "module")}, {SizeText(m)}, {string.Join(" and ", m.Spellings)} keys" +
                (m.Decomposed > 0 ? $", {m.Decomposed} with DoRA magnitudes" : ""));
        if (a.OtherTensorCount > 0)
            InfoTextWriter.Line(w, 0, "other tensors", $"{a.OtherTensorCount} that are no adapter tensor: {string.Join(", ", a.OtherTensors.Select(n => $"'{n}'"))}" +
                (a.OtherTensorCount > a.OtherTensors.Count ? $" and {a.OtherTensorCount - a.OtherTensors.Count} more" : ""));
        foreach (var fit in a.Fits)
            InfoTextWriter.Line(w, 0, $"fits {fit.Model}", fit.Level switch
            {
                AdapterFitLevel.Fits => $"yes, {Count(fit.Layers, "layer")} adapted",
                AdapterFitLevel.FitsLeniently => $"with --lora-lenient, {Count(fit.Layers, "layer")} adapted ({WithoutPath(a, fit.Detail)})",
                _ => $"no: {WithoutPath(a, fit.Detail)}",
            });
    }

    public static void WriteJson(AdapterInspection a, TextWriter output)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("path", a.Path);
            w.WriteString("layout", "adapter");
            w.WriteBoolean("fits_a_model", FitsAModel(a));
            w.WriteNumber("tensors", a.Tensors);
            w.WriteNumber("bytes", a.Bytes);
            w.WriteStartArray("modules");
            foreach (var m in a.Modules)
            {
                w.WriteStartObject();
                w.WriteString("kind", m.Kind);
                w.WriteNumber("count", m.Modules);
                w.WriteStartArray(m.Kind == "LoKr" ? "factors" : "ranks");
                foreach (var size in m.Sizes) w.WriteNumberValue(size);
                w.WriteEndArray();
                InfoJsonWriter.Strings(w, "spellings", m.Spellings);
                w.WriteNumber("dora", m.Decomposed);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNumber("other_tensor_count", a.OtherTensorCount);
            InfoJsonWriter.Strings(w, "other_tensors", a.OtherTensors);
            w.WriteStartArray("fits");
            foreach (var fit in a.Fits)
            {
                w.WriteStartObject();
                w.WriteString("model", fit.Model);
                w.WriteString("level", fit.Level switch
                {
                    AdapterFitLevel.Fits => "fits",
                    AdapterFitLevel.FitsLeniently => "lenient",
                    _ => "no",
                });
                w.WriteNumber("layers", fit.Layers);
                w.WriteString("detail", fit.Detail);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    /// <summary>Whether the file applies to some FLUX.2 model, leniently or not.</summary>
    public static bool FitsAModel(AdapterInspection a) => a.Fits.Any(f => f.Level != AdapterFitLevel.DoesNotFit);

    private static string Count(int n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    /// <summary>A loading message without the file's path in front (the report names the file once).</summary>
    private static string? WithoutPath(AdapterInspection a, string? detail) =>
        detail != null && detail.StartsWith(a.Path + ": ", StringComparison.Ordinal) ? detail[(a.Path.Length + 2)..] : detail;

    private static string SizeText(AdapterModules m)
    {
        string label = m.Kind == "LoKr" ? "factor" : "rank";
        return m.Sizes.Count switch
        {
            0 => $"{label} unknown",
            1 => $"{label} {m.Sizes[0]}",
            _ => $"{label}s {string.Join(", ", m.Sizes)}",
        };
    }
}
