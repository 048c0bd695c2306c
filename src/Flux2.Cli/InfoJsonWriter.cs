using System.Text.Json;
using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Models.Checkpoints;

namespace Flux2.Cli;

/// <summary>The machine-readable form of an <see cref="InfoReport"/> (<c>flux2 info --json</c>).</summary>
public static class InfoJsonWriter
{
    public static void Write(InfoReport report, TextWriter output)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            var i = report.Inspection;
            w.WriteStartObject();
            w.WriteString("path", i.Source.Path);
            w.WriteString("layout", i.Source.Layout.Describe());
            w.WriteBoolean("complete", report.IsComplete);
            w.WriteString("pipeline_class", i.PipelineClass);
            if (i.Source.ModelIndex is { } index)
            {
                w.WriteString("diffusers_version", index.DiffusersVersion);
                if (index.IsDistilled is { } d) w.WriteBoolean("is_distilled", d);
            }
            if (i.Variant is { } variant)
            {
                w.WriteStartObject("variant");
                w.WriteString("name", variant.Name);
                w.WriteString("model", variant.Model?.ToString());
                if (variant.IsDistilled is { } distilled) w.WriteBoolean("distilled", distilled);
                else w.WriteNull("distilled");
                w.WriteEndObject();
            }
            w.WriteString("architecture", report.Architecture?.Name);
            w.WriteNumber("tensors", i.Components.Sum(c => c.Tensors?.Count ?? 0));
            w.WriteNumber("bytes", i.Components.Sum(c => c.Tensors?.Bytes ?? 0));
            Strings(w, "problems", [.. report.Problems, .. i.Problems]);
            Strings(w, "warnings", i.Warnings);
            w.WriteStartArray("components");
            foreach (var c in i.Components) Component(w, c);
            w.WriteEndArray();
            w.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(ms.ToArray()));
    }

    private static void Component(Utf8JsonWriter w, ComponentInspection c)
    {
        w.WriteStartObject();
        w.WriteString("name", c.Name);
        w.WriteString("kind", c.Kind.ToString());
        w.WriteString("class", c.ClassName);
        w.WriteString("folder", c.Files.Directory);
        w.WriteString("config", c.Files.ConfigPath);
        w.WriteString("weights", c.Files.WeightsPath);
        w.WriteNumber("shards", c.ShardCount);
        w.WriteString("naming", c.Naming);
        w.WriteBoolean("complete", c.IsComplete);
        if (c.Tensors is { } t)
        {
            w.WriteStartObject("tensors");
            w.WriteNumber("count", t.Count);
            w.WriteNumber("bytes", t.Bytes);
            w.WriteStartArray("dtypes");
            foreach (var d in t.ByDType)
            {
                w.WriteStartObject();
                w.WriteString("dtype", d.DType);
                w.WriteNumber("count", d.Count);
                w.WriteNumber("bytes", d.Bytes);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteStartObject("details");
        foreach (var (key, value) in c.Details) w.WriteString(key, value);
        w.WriteEndObject();
        if (c.Transformer != null) Transformer(w, c.Transformer);
        if (c.Validation != null) Validation(w, c.Validation);
        Strings(w, "problems", c.Problems);
        Strings(w, "warnings", c.Warnings);
        w.WriteEndObject();
    }

    private static void Transformer(Utf8JsonWriter w, TransformerInspection t)
    {
        w.WriteStartObject("transformer");
        w.WriteString("prefix", t.Prefix);
        w.WriteString("config_source", t.ConfigSource);
        w.WriteStartObject("config");
        foreach (var (key, value) in InfoReport.ConfigFields(t.Config))
        {
            w.WritePropertyName(key);
            w.WriteRawValue(value);
        }
        w.WriteEndObject();
        Strings(w, "nvfp4_layers_bfl", t.Config.Nvfp4LayersBfl.Order(StringComparer.Ordinal));
        w.WriteString("encoding", t.Encoding);
        w.WriteNumber("linears", t.LinearCount);
        w.WriteStartArray("quantized_linears");
        foreach (var q in t.QuantizedLinears)
        {
            w.WriteStartObject();
            w.WriteString("name", q.Name);
            w.WriteString("format", q.FormatName);
            w.WriteNumber("out_features", q.OutFeatures);
            w.WriteNumber("in_features", q.InFeatures);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("quantization_metadata");
        foreach (var (layer, format) in t.MetadataLayers) w.WriteString(layer, format);
        w.WriteEndObject();
        if (t.DoubleBlockPlan != null)
        {
            w.WriteStartArray("double_block_plan");
            string[] fields = ["attn_qkv", "attn_out", "added_attn_qkv", "added_attn_out", "ff", "ff_context"];
            foreach (var block in t.DoubleBlockPlan)
            {
                w.WriteStartObject();
                for (int f = 0; f < fields.Length; f++)
                    w.WriteString(fields[f], block.Fields[f] is { } q ? (q.IsInt8W8A8 ? "int8" : "nvfp4") : null);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        Strings(w, "problems", t.Problems);
        Strings(w, "warnings", t.Warnings);
        w.WriteEndObject();
    }

    private static void Validation(Utf8JsonWriter w, ValidationReport v)
    {
        w.WriteStartObject("validation");
        w.WriteNumber("required", v.Required);
        w.WriteNumber("present", v.Present);
        w.WriteBoolean("complete", v.IsComplete);
        w.WriteStartArray("issues");
        foreach (var issue in v.Issues)
        {
            w.WriteStartObject();
            w.WriteString("kind", InfoTextWriter.IssueName(issue.Kind));
            w.WriteString("name", issue.Name);
            w.WriteString("detail", issue.Detail);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    internal static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
