using Flux2.Core;
using Flux2.Core.Gguf;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;

namespace Flux2.Models.Checkpoints;

/// <summary>A Linear stored quantized, by its name without ".weight" (prefix removed).</summary>
/// <param name="FormatName">"NVFP4", "FP8", or a GGUF block type ("Q4_K")</param>
public sealed record QuantizedLinear(string Name, WeightFormat Format, string FormatName, int OutFeatures, int InFeatures)
{
    public static QuantizedLinear Of(string name, LinearWeight weight) => new(name, weight.Format, weight.Format switch
    {
        WeightFormat.Nvfp4 => "NVFP4",
        WeightFormat.Fp8E4M3 => "FP8",
        WeightFormat.GgmlBlocks => GgmlTypeInfo.Name(weight.BlockType),
        _ => weight.Format.ToString().ToLowerInvariant(),
    }, weight.OutFeatures, weight.InFeatures);
}

/// <summary>
/// What a transformer checkpoint is: its naming, the resolved <see cref="Flux2Config"/> (from config.json, or
/// inferred from the shapes for a BFL single file), the published model it matches, how its Linears are stored,
/// and every difference from the tensors that configuration requires.
/// </summary>
/// <param name="Prefix">what was removed from every name ("model.diffusion_model.", "transformer." or "")</param>
/// <param name="ConfigSource">where the configuration comes from: the config.json read, the tensor shapes, or (when
/// the shapes are incomplete) the published model whose embedder shapes they have</param>
/// <param name="Encoding">MAX's quantization encoding the weights imply (bfloat16, float4_e2m1fnx2, ...)</param>
/// <param name="MetadataLayers">the layers of _quantization_metadata (BFL module name → format), unioned over the files</param>
/// <param name="DoubleBlockPlan">the resolved <see cref="Flux2BlockQuant"/> of each double block (null when the stored
/// tensors contradict it: <paramref name="Problems"/> says how)</param>
public sealed record TransformerInspection(
    TensorNaming Naming,
    string Prefix,
    Flux2Config Config,
    string ConfigSource,
    string Encoding,
    Flux2Model? Model,
    int LinearCount,
    IReadOnlyList<QuantizedLinear> QuantizedLinears,
    IReadOnlyDictionary<string, string> MetadataLayers,
    IReadOnlyList<Flux2BlockQuant>? DoubleBlockPlan,
    ValidationReport Validation,
    IReadOnlyList<string> Problems,
    IReadOnlyList<string> Warnings)
{
    /// <summary>Per-Linear files from ComfyUI may carry a JSON description of the quantization as a U8 tensor.</summary>
    private const string ComfyQuantSuffix = ".comfy_quant";

    /// <param name="configPath">the component's config.json, or null to infer the configuration from the shapes</param>
    /// <exception cref="Flux2ConfigException">the configuration can be neither read nor inferred</exception>
    public static TransformerInspection Inspect(SafeTensorsCheckpoint checkpoint, string? configPath)
    {
        var infos = checkpoint.Names.Select(checkpoint.Info).ToList();
        var naming = Flux2ConfigInference.RequireNaming(infos, checkpoint.Path);
        var byName = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var extra = new List<TensorIssue>();
        foreach (var t in infos)
        {
            var stripped = Flux2WeightMap.StripPrefix(t.Name);
            if (!byName.TryAdd(stripped, t))
                extra.Add(new(TensorIssueKind.Unexpected, t.Name, $"is the same tensor as '{byName[stripped].Name}' once the prefix is removed"));
        }
        string prefix = infos.Count == 0 ? "" : infos[0].Name[..^Flux2WeightMap.StripPrefix(infos[0].Name).Length];

        Flux2Config structure;
        string configSource = configPath ?? "inferred from tensor shapes";
        try
        {
            structure = Flux2ConfigInference.Load(checkpoint, configPath);
        }
        catch (Flux2ConfigException) when (configPath != null)
        {
            // The shapes disagree with config.json: keep the config and list every difference below, unless it asks for
            // more blocks than there are (then the list would be as long as the config says).
            structure = Flux2Config.FromJsonFile(configPath);
            Flux2ConfigInference.CheckBlockCounts(structure, infos, naming, configPath);
        }
        catch (Flux2ConfigException) when (PublishedModelOf(byName, naming) is { } model)
        {
            // Tensors are missing or misshapen, but the embedders say which published model this is (spec §4.7 step 3):
            // list every difference from it.
            structure = Flux2Variant.Preset(model);
            configSource = $"the published {Flux2Variant.ModelName(model)} configuration (the shapes do not all match it)";
        }

        LinearStorage StorageOf(string weightName) => LinearRequirements.StorageOf(byName, weightName);

        var requirements = TransformerRequirements.For(structure, naming, StorageOf);
        var validation = ValidationReport.Compare(requirements, byName, n => n.EndsWith(ComfyQuantSuffix, StringComparison.Ordinal));
        var flagged = validation.Issues.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);

        // Quantized Linears whose tensors passed the shape and dtype checks are opened as the model would open them,
        // which also checks the scale layout and that the scales are finite.
        var linears = Flux2WeightMap.ExpectedTensors(structure, naming).Where(e => e.Shape.Length == 2).Select(e => e.Name).ToList();
        var quantized = new List<QuantizedLinear>();
        foreach (var name in linears.Where(n => StorageOf(n) != LinearStorage.Float))
        {
            string stem = name[..^".weight".Length];
            if (flagged.Any(f => f.StartsWith(stem + ".", StringComparison.Ordinal))) continue;
            try
            {
                var w = LinearWeightLoader.Load(checkpoint, byName[name].Name);
                quantized.Add(QuantizedLinear.Of(stem, w));
            }
            catch (SafeTensorsException e)
            {
                extra.Add(new(TensorIssueKind.Invalid, name, e.Message));
            }
        }

        bool nvfp4 = quantized.Any(q => q.Format == WeightFormat.Nvfp4);
        bool fp8 = quantized.Any(q => q.Format == WeightFormat.Fp8E4M3);
        var floatDType = byName.TryGetValue(Flux2TensorNames.For(naming).ImgIn, out var imgIn) && imgIn.DType is DType.Float32 or DType.Float16
            ? imgIn.DType
            : DType.BFloat16;
        string encoding = nvfp4 ? "float4_e2m1fnx2" : fp8 ? "float8_e4m3fn" : floatDType switch
        {
            DType.Float32 => "float32",
            DType.Float16 => "float16",
            _ => "bfloat16",
        };
        // As MAX's initialize_from_config with the encoding the weights imply (spec §2.2 steps 2–4); the plan adds
        // the NVFP4 QuantConfig and the metadata's layer set, and checks the double blocks against the tensors.
        var config = structure with { DType = nvfp4 ? DType.BFloat16 : fp8 ? DType.Float8E4M3 : floatDType };
        IReadOnlyList<Flux2BlockQuant>? plan = null;
        var problems = new List<string>();
        var warnings = new List<string>();
        try
        {
            var p = Flux2QuantizationPlan.Create(config, checkpoint);
            config = p.Config;
            plan = p.DoubleBlocks;
            warnings.AddRange(p.Warnings);
        }
        catch (QuantizationException e)
        {
            problems.Add(e.Message);
        }
        return new TransformerInspection(naming, prefix, config, configSource, encoding, Flux2Variant.Match(structure),
            linears.Count, quantized, ReadMetadata(checkpoint), plan, validation.With(extra), problems, warnings);
    }

    /// <summary>The published model with this hidden size (rows of the image embedder), text width (columns of the
    /// text embedder) and guidance embedder, if any.</summary>
    private static Flux2Model? PublishedModelOf(IReadOnlyDictionary<string, TensorInfo> byName, TensorNaming naming)
    {
        var names = Flux2TensorNames.For(naming);
        if (!byName.TryGetValue(names.ImgIn, out var imgIn) || imgIn.Shape.Length != 2
            || !byName.TryGetValue(names.TxtIn, out var txtIn) || txtIn.Shape.Length != 2) return null;
        bool guidance = byName.ContainsKey(names.GuidanceLinear1);
        return Enum.GetValues<Flux2Model>().Select(m => (Flux2Model?)m).FirstOrDefault(m =>
        {
            var preset = Flux2Variant.Preset(m!.Value);
            return preset.InnerDim == imgIn.Shape[0] && preset.JointAttentionDim == txtIn.Shape[1] && preset.GuidanceEmbeds == guidance;
        });
    }

    private static Dictionary<string, string> ReadMetadata(SafeTensorsCheckpoint checkpoint)
    {
        var layers = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var f in checkpoint.Files)
            if (f.Metadata.TryGetValue(QuantizationMetadata.Key, out var json))
                foreach (var (layer, format) in QuantizationMetadata.ParseLayers(json, f.FilePath))
                    layers[layer] = format;
        return layers;
    }
}
