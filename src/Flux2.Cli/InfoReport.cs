using System.Globalization;
using System.Text.Json;
using Flux2.Core;
using Flux2.Models;
using Flux2.Models.Checkpoints;
using Flux2.Pipelines.Config;
using Flux2.Text;

namespace Flux2.Cli;

/// <summary>
/// What <c>flux2 info</c> reports: the model-level inspection plus what only the pipeline layer knows (which
/// registered architecture runs the checkpoint, and whether model_index.json agrees with the transformer).
/// </summary>
public sealed record InfoReport(CheckpointInspection Inspection, SupportedArchitecture? Architecture, IReadOnlyList<string> Problems)
{
    public bool IsComplete => Problems.Count == 0 && Inspection.IsComplete;

    /// <summary>Every problem: the checkpoint's, each component's and each validation issue, as one-line texts.</summary>
    public int ProblemCount =>
        Problems.Count + Inspection.Problems.Count
        + Inspection.Components.Sum(c => c.Problems.Count + (c.Transformer?.Problems.Count ?? 0) + (c.Validation?.Issues.Count ?? 0));

    public static InfoReport Create(CheckpointInspection inspection)
    {
        var problems = new List<string>();
        SupportedArchitecture? architecture = null;
        var model = inspection.Variant?.Model;
        if (inspection.PipelineClass != null)
        {
            architecture = Flux2Architectures.Find(inspection.PipelineClass);
            if (architecture == null)
                problems.Add($"model_index.json: _class_name '{inspection.PipelineClass}' is not a FLUX.2 pipeline " +
                    $"(registered: {string.Join(", ", Flux2Architectures.All.Select(a => a.Name))})");
            else if (model != null && !architecture.Models.Contains(model.Value))
                problems.Add($"model_index.json names {architecture.Name}, but the transformer is FLUX.2 {inspection.Variant!.Name}");
        }
        else if (model != null)
        {
            architecture = Flux2Architectures.For(model.Value);
        }
        CheckTokenizers(inspection, architecture, problems);
        return new InfoReport(inspection, architecture, problems);
    }

    /// <summary>Loads each tokenizer as <c>flux2 generate</c> does (with its architecture's template when that is known),
    /// so a garbage, empty or wrong-schema tokenizer.json, tekken.json or tokenizer_config.json is a problem here too.</summary>
    private static void CheckTokenizers(CheckpointInspection inspection, SupportedArchitecture? architecture, List<string> problems)
    {
        var template = architecture == Flux2Architectures.Dev ? PromptTemplate.Dev
            : architecture == Flux2Architectures.Klein || architecture == Flux2Architectures.KleinKv ? PromptTemplate.Klein
            : PromptTemplate.None;
        foreach (var c in inspection.Components.Where(c => c.Kind == ComponentKind.Tokenizer && c.Files.DirectoryExists && c.Problems.Count == 0))
        {
            try
            {
                PromptTokenizer.Load(c.Files.TokenizerFile ?? c.Files.Directory, template);
            }
            catch (TokenizerFormatException e)
            {
                problems.Add(e.Message);
            }
        }
    }

    /// <summary>The resolved configuration as (config.json key, JSON value) pairs, then the fields config.json does not hold.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> ConfigFields(Flux2Config c)
    {
        string I(int v) => v.ToString(CultureInfo.InvariantCulture);
        string D(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        return
        [
            new("patch_size", I(c.PatchSize)),
            new("in_channels", I(c.InChannels)),
            new("out_channels", c.OutChannels is { } o ? I(o) : "null"),
            new("num_layers", I(c.NumLayers)),
            new("num_single_layers", I(c.NumSingleLayers)),
            new("attention_head_dim", I(c.AttentionHeadDim)),
            new("num_attention_heads", I(c.NumAttentionHeads)),
            new("joint_attention_dim", I(c.JointAttentionDim)),
            new("timestep_guidance_channels", I(c.TimestepGuidanceChannels)),
            new("mlp_ratio", D(c.MlpRatio)),
            new("axes_dims_rope", "[" + string.Join(", ", c.AxesDimsRope.Select(I)) + "]"),
            new("rope_theta", D(c.RopeTheta)),
            new("eps", D(c.Eps)),
            new("guidance_embeds", c.GuidanceEmbeds ? "true" : "false"),
            new("dtype", Quote(MaxDTypeName(c.DType))),
            new("devices", "[" + string.Join(", ", c.Devices.Select(d => Quote(d.ToString()))) + "]"),
            new("quant_config", c.QuantConfig == null ? "null" : Quote(c.QuantConfig.Format.ToString().ToLowerInvariant())),
            new("nvfp4_layers_bfl", I(c.Nvfp4LayersBfl.Count)),
        ];
    }

    private static string Quote(string s) => "\"" + JsonEncodedText.Encode(s) + "\"";

    /// <summary>The dtype as MAX spells it.</summary>
    public static string MaxDTypeName(DType dtype) => dtype switch
    {
        DType.Float8E4M3 => "float8_e4m3fn",
        DType.Float8E5M2 => "float8_e5m2",
        DType.Float4E2M1x2 => "float4_e2m1fnx2",
        _ => dtype.ToString().ToLowerInvariant(),
    };

    /// <summary>Binary units for people; the exact count goes into --json.</summary>
    public static string Bytes(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{v:0.##} {units[u]}");
    }
}
