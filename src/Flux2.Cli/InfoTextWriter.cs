using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Core.Quantization;
using Flux2.Models;
using Flux2.Models.Checkpoints;

namespace Flux2.Cli;

/// <summary>The human-readable form of an <see cref="InfoReport"/>.</summary>
public static class InfoTextWriter
{
    public static void Write(InfoReport report, TextWriter w)
    {
        var i = report.Inspection;
        var index = i.Source.ModelIndex;
        Line(w, 0, "path", i.Source.Path);
        Line(w, 0, "layout", i.Source.Layout.Describe()
            + (index == null ? "" : $" (model_index.json: {index.ClassName}" + (index.DiffusersVersion is { } v ? $", diffusers {v})" : ")")));
        if (i.Variant != null) Line(w, 0, "variant", i.Variant.Name);
        if (report.Architecture is { } a)
            Line(w, 0, "architecture", $"{a.Name} ({a.Task}; encodings {string.Join(", ", a.SupportedEncodings)}; " +
                (a.SupportsMultipleDevices ? "one or more devices)" : "one device)"));
        long total = i.Components.Sum(c => c.Tensors?.Bytes ?? 0);
        Line(w, 0, "total", $"{i.Components.Sum(c => c.Tensors?.Count ?? 0)} tensors, {InfoReport.Bytes(total)} ({total} bytes)");
        Line(w, 0, "status", report.IsComplete ? "complete" : $"INCOMPLETE ({report.ProblemCount} problem{(report.ProblemCount == 1 ? "" : "s")})");
        Messages(w, 0, "problem", [.. report.Problems, .. i.Problems]);
        Messages(w, 0, "warning", i.Warnings);
        foreach (var c in i.Components)
        {
            w.WriteLine();
            Component(w, c);
        }
    }

    private static void Component(TextWriter w, ComponentInspection c)
    {
        w.WriteLine($"[{c.Name}] {c.Kind.Describe()}" + (c.ClassName != null ? $" ({c.ClassName})" : ""));
        Line(w, 1, "folder", c.Files.Directory);
        if (c.Files.ConfigPath != null) Line(w, 1, "config", Path.GetFileName(c.Files.ConfigPath));
        if (c.Files.WeightsPath != null)
            Line(w, 1, "weights", Path.GetFileName(c.Files.WeightsPath) + (c.Files.IsSharded ? $" ({c.ShardCount} shards)" : ""));
        if (c.Naming != null) Line(w, 1, "naming", c.Naming);
        if (c.Tensors is { } t)
        {
            Line(w, 1, "tensors", $"{t.Count}, {InfoReport.Bytes(t.Bytes)} ({t.Bytes} bytes)");
            foreach (var d in t.ByDType) Line(w, 2, d.DType, $"{d.Count} tensors, {InfoReport.Bytes(d.Bytes)}");
        }
        foreach (var (key, value) in c.Details) Line(w, 1, key, value);
        if (c.Transformer != null) Transformer(w, c.Transformer);
        else if (c.Validation != null) Validation(w, c.Validation);
        Messages(w, 1, "problem", c.Problems);
        Messages(w, 1, "warning", c.Warnings);
    }

    private static void Transformer(TextWriter w, TransformerInspection t)
    {
        if (t.Prefix.Length > 0) Line(w, 1, "prefix", $"'{t.Prefix}' (removed)");
        Line(w, 1, "Flux2Config", t.ConfigSource);
        foreach (var (key, value) in InfoReport.ConfigFields(t.Config)) Line(w, 2, key, value);
        Line(w, 1, "encoding", t.Encoding);
        if (t.QuantizedLinears.Count == 0)
        {
            Line(w, 1, "quantized", $"none of {t.LinearCount} Linears");
        }
        else
        {
            var formats = t.QuantizedLinears.GroupBy(q => q.FormatName).Select(g => $"{g.Count()} {g.Key}");
            Line(w, 1, "quantized", $"{string.Join(", ", formats)} of {t.LinearCount} Linears");
            foreach (var q in t.QuantizedLinears) Line(w, 2, q.Name, $"{q.FormatName} [{q.OutFeatures}, {q.InFeatures}]");
        }
        Line(w, 1, "_quantization_metadata", t.MetadataLayers.Count == 0 ? "absent" : $"{t.MetadataLayers.Count} layers");
        if (t.DoubleBlockPlan != null && t.Config.QuantConfig != null)
        {
            Line(w, 1, "double-block plan", "(Flux2BlockQuant.Resolve: attn_qkv attn_out added_attn_qkv added_attn_out ff ff_context)");
            for (int b = 0; b < t.DoubleBlockPlan.Count; b++)
                Line(w, 2, $"block {b}", string.Join(" ", t.DoubleBlockPlan[b].Fields.Select(f => f == null ? "bf16" : FormatName(f))));
        }
        Validation(w, t.Validation);
        Messages(w, 1, "problem", t.Problems);
        Messages(w, 1, "warning", t.Warnings);
    }

    private static void Validation(TextWriter w, ValidationReport v)
    {
        Line(w, 1, "validation", $"{v.Present} of {v.Required} required tensors present, " +
            (v.IsComplete ? "no issues" : $"{v.Issues.Count} issue{(v.Issues.Count == 1 ? "" : "s")}"));
        foreach (var issue in v.Issues) Line(w, 2, IssueName(issue.Kind), $"{issue.Name}: {issue.Detail}");
    }

    private static string FormatName(QuantConfig config) => config.IsInt8W8A8 ? "int8" : "nvfp4";

    public static string IssueName(TensorIssueKind kind) => kind switch
    {
        TensorIssueKind.Missing => "missing",
        TensorIssueKind.Unexpected => "unexpected",
        TensorIssueKind.WrongShape => "wrong shape",
        TensorIssueKind.WrongDType => "wrong dtype",
        _ => "invalid",
    };

    private static void Messages(TextWriter w, int depth, string label, IEnumerable<string> messages)
    {
        foreach (var m in messages) Line(w, depth, label, m);
    }

    internal static void Line(TextWriter w, int depth, string key, string value) =>
        w.WriteLine($"{new string(' ', depth * 2)}{key + ":",-24} {value}");
}
