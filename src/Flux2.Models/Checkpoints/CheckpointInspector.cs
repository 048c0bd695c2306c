using System.Globalization;
using System.Text.Json;
using Flux2.Core;
using Flux2.Core.Checkpoints;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;
using Flux2.Models.TextEncoders;
using Flux2.Models.Vae;

namespace Flux2.Models.Checkpoints;

/// <summary>
/// Inspects a checkpoint path for <c>flux2 info</c>: discovers the layout, opens each component's weights (headers
/// only: no tensor data is read except quantization scalars), recognises what they hold and validates the
/// transformer, the VAE and the text encoder against the tensors their configurations require. A malformed weight file raises its
/// <see cref="SafeTensorsException"/>; everything else that is wrong is collected as a problem.
/// </summary>
public static class CheckpointInspector
{
    public static CheckpointInspection Inspect(string path)
    {
        var source = CheckpointSource.Discover(path);
        var index = source.ModelIndex;
        // A folder's name says what it is (diffusers' "vae/"); a file's name does not.
        bool namedFolders = source.Layout is CheckpointLayout.DiffusersRepository or CheckpointLayout.ComponentFolder;
        var components = source.Components.Select(c => InspectComponent(c, index?.Component(c.Name)?.ClassName, namedFolders)).ToList();
        var problems = new List<string>();
        if (index != null)
        {
            foreach (var name in ModelIndex.Flux2Components.Where(n => index.Component(n)?.IsPresent != true))
                problems.Add($"model_index.json declares no '{name}' component");
        }

        return Complete(source, components, problems,
            index != null ? index.IsDistilled : Flux2Variant.DistilledFromFileName(System.IO.Path.GetFileName(source.Path)));
    }

    /// <summary>
    /// Components given one by one, by role, as generate's --transformer, --vae, --text-encoder and --tokenizer name them
    /// (each may be absent): a file or a component folder each, the text encoder's configuration read as loading reads it
    /// (config.json in its folder or beside its file, else inferred from its shapes). Each is checked to hold what its role
    /// says, and the text encoder against the transformer.
    /// </summary>
    public static CheckpointInspection InspectFiles(string? transformer, string? vae, string? textEncoder, string? tokenizer)
    {
        var files = new List<CheckpointComponent>();
        if (transformer != null) files.Add(Given("transformer", transformer));
        if (vae != null) files.Add(Given("vae", vae));
        if (textEncoder != null)
        {
            var (config, weights) = TextEncoderFiles.Resolve(textEncoder, null);
            var full = System.IO.Path.GetFullPath(weights);
            files.Add(new CheckpointComponent("text_encoder", System.IO.Path.GetDirectoryName(full)!, true, config, weights, [System.IO.Path.GetFileName(full)]));
        }
        if (tokenizer != null) files.Add(File.Exists(tokenizer) ? TokenizerFile(tokenizer) : CheckpointComponent.InFolder("tokenizer", tokenizer));
        if (files.Count == 0) throw new ArgumentException("no component given");
        var source = new CheckpointSource(transformer ?? vae ?? textEncoder ?? tokenizer!, CheckpointLayout.SeparateFiles, null, files);
        // The role names what each is, as a diffusers folder name does.
        var components = files.Select(c => InspectComponent(c, null, namedFolder: true)).ToList();
        return Complete(source, components, [], transformer == null ? null : Flux2Variant.DistilledFromFileName(System.IO.Path.GetFileName(transformer)));
    }

    /// <summary>A tokenizer given as a file (a GGUF file carrying one).</summary>
    private static CheckpointComponent TokenizerFile(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return new CheckpointComponent("tokenizer", System.IO.Path.GetDirectoryName(full)!, true, null, null, [System.IO.Path.GetFileName(full)])
        {
            TokenizerFile = full,
        };
    }

    private static CheckpointComponent Given(string role, string path) =>
        Directory.Exists(path) ? CheckpointComponent.InFolder(role, path)
        : File.Exists(path) ? CheckpointComponent.ForWeights(role, path)
        : throw new CheckpointException(path, "no such file or directory");

    /// <param name="distilled">whether a klein transformer is distilled, as model_index.json or a BFL file name says</param>
    private static CheckpointInspection Complete(CheckpointSource source, List<ComponentInspection> components, List<string> problems, bool? distilled)
    {
        var warnings = new List<string>();
        var transformer = components.Select(c => c.Transformer).FirstOrDefault(t => t != null);
        Flux2Variant? variant = null;
        if (transformer != null)
        {
            bool klein = transformer.Model is Flux2Model.Klein4B or Flux2Model.Klein9B;
            variant = new Flux2Variant(transformer.Model, klein ? distilled : null);
        }

        // The transformer reads three stacked hidden states of the encoder (spec §2.2); loading refuses a mismatch.
        var transformerFiles = components.FirstOrDefault(c => c.Transformer != null);
        var encoderFiles = components.FirstOrDefault(c => c.TextEncoder != null);
        if (transformer != null && encoderFiles != null
            && TextEncoderFit.Problem(transformer.Config, transformer.Config.GuidanceEmbeds ? TextEncoderArchitecture.Mistral : TextEncoderArchitecture.Qwen3,
                transformerFiles!.Files.WeightsPath!, encoderFiles.TextEncoder!, encoderFiles.Files.WeightsPath!) is { } misfit)
            warnings.Add(misfit);
        return new CheckpointInspection(source, source.ModelIndex?.ClassName, variant, components, problems, warnings);
    }

    private static ComponentInspection InspectComponent(CheckpointComponent files, string? declaredClass, bool namedFolder)
    {
        var problems = new List<string>();
        var warnings = new List<string>();
        var details = new List<KeyValuePair<string, string>>();
        if (!files.DirectoryExists)
        {
            problems.Add($"folder {files.Directory} is missing");
            return new ComponentInspection(files, ComponentKinds.FromDeclaration(files.Name, declaredClass), declaredClass, null, 0, null, null,
                null, null, null, details, problems, warnings);
        }

        var className = declaredClass ?? (files.ConfigPath == null ? null : DeclaredClass(files.ConfigPath));
        var declared = ComponentKinds.FromDeclaration(namedFolder ? files.Name : null, className);
        if (files.WeightsPath == null)
        {
            if (declared is ComponentKind.Transformer or ComponentKind.Vae or ComponentKind.TextEncoder)
                problems.Add($"no weights in {files.Directory} (expected {string.Join(" or ", CheckpointComponent.StandardWeightNames)})");
            if (declared == ComponentKind.Tokenizer) DescribeTokenizer(files, details, problems);
            if (declared == ComponentKind.Scheduler) DescribeScheduler(files, details, problems);
            if (declared == ComponentKind.Unknown) warnings.Add("not a component FLUX.2 uses");
            return new ComponentInspection(files, declared, className, null, 0, null, null, null, null, null, details, problems, warnings);
        }

        using var checkpoint = SafeTensorsCheckpoint.Open(files.WeightsPath);
        var content = WeightsContent.Detect(checkpoint.Names.ToHashSet(StringComparer.Ordinal));
        var kind = declared == ComponentKind.Unknown ? content.Kind : declared;
        if (content.Kind == ComponentKind.Unknown)
            problems.Add("the tensors are not a FLUX.2 transformer, VAE or text encoder (none of the key tensors of spec §4.7 is present)");
        else if (content.Kind != kind)
            problems.Add($"declared a {kind.Describe()}{(className != null ? $" ({className})" : $" ('{files.Name}')")} but the weights hold a {content.Kind.Describe()}");

        TransformerInspection? transformer = null;
        VaeConfig? vae = null;
        TextEncoderConfig? textEncoder = null;
        ValidationReport? validation = null;
        try
        {
            // Weights that are not what the folder declares are not inspected further: their config is the wrong one.
            switch (content.Kind == kind ? kind : ComponentKind.Unknown)
            {
                case ComponentKind.Transformer:
                    transformer = TransformerInspection.Inspect(checkpoint, ModelConfigPath(files));
                    validation = transformer.Validation;
                    break;
                case ComponentKind.Vae:
                    var naming = content.Naming == WeightsContent.BflNaming ? VaeNaming.Bfl : VaeNaming.Diffusers;
                    (vae, validation) = DescribeVae(files, checkpoint, naming, details);
                    break;
                case ComponentKind.TextEncoder:
                    (textEncoder, validation) = DescribeTextEncoder(files, checkpoint, content.Prefix, details, problems);
                    break;
            }
        }
        catch (Flux2Exception e)
        {
            // A configuration that cannot be read or inferred, malformed quantization metadata: the report
            // still shows what the files hold. (A malformed header already failed in Open.)
            problems.Add(e.Message);
        }
        return new ComponentInspection(files, kind, className, content.Kind == ComponentKind.Unknown ? null : content.Naming,
            checkpoint.Files.Count, TensorStats.Of(checkpoint.Names.Select(checkpoint.Info)), transformer, vae, textEncoder, validation, details, problems, warnings);
    }

    /// <summary>The norm weights an encoder layer reads: widened to fp32 from any float format.</summary>
    private static readonly IReadOnlyList<DType> TextEncoderNormDTypes = [.. TensorRequirement.FloatDTypes, DType.Float64];

    private static (VaeConfig, ValidationReport) DescribeVae(CheckpointComponent files, SafeTensorsCheckpoint checkpoint, VaeNaming naming,
        List<KeyValuePair<string, string>> details)
    {
        var configPath = ModelConfigPath(files);
        var config = configPath != null ? VaeConfig.FromJsonFile(configPath) : VaeWeightMap.InferConfig(checkpoint);
        config.CheckAgainst(checkpoint, naming, configPath ?? checkpoint.Path);
        details.Add(new("configuration", configPath ?? "inferred from tensor shapes"));
        details.Add(new("block_out_channels", "(" + string.Join(", ", config.BlockOutChannels) + ")"));
        details.Add(new("layers_per_block", Invariant(config.LayersPerBlock)));
        details.Add(new("latent_channels", Invariant(config.LatentChannels)));
        bool statistics = checkpoint.Contains(VaeWeightMap.StatisticsMean) && checkpoint.Contains(VaeWeightMap.StatisticsVariance);
        details.Add(new("latent statistics (bn)", statistics ? "present" : "absent"));
        // The latent statistics are required too: FLUX.2 latents cannot be normalised or decoded without them (spec §6.2).
        var requirements = new VaeTensorNames(naming, config.Levels).ExpectedTensors(config)
            .Select(t => new TensorRequirement(t.Name, [t.Shape], TensorRequirement.FloatDTypes)).ToList();
        var tensors = checkpoint.Names.ToDictionary(n => n, checkpoint.Info, StringComparer.Ordinal);
        return (config, ValidationReport.Compare(requirements, tensors, n => n == VaeWeightMap.StatisticsCounter));
    }

    /// <summary>Validates the embedding and the layers up to the last stacked hidden state, the only tensors the
    /// encoder reads; later layers, the final norm and whatever lies outside <paramref name="prefix"/> (lm_head, a
    /// vision tower) may be there. Without a config.json (a single file) the configuration is the one the shapes imply,
    /// as loading infers it, and every other tensor is checked against it.</summary>
    private static (TextEncoderConfig, ValidationReport) DescribeTextEncoder(CheckpointComponent files, SafeTensorsCheckpoint checkpoint,
        string prefix, List<KeyValuePair<string, string>> details, List<string> problems)
    {
        var configPath = ModelConfigPath(files);
        var config = configPath != null ? TextEncoderConfig.FromJsonFile(configPath) : TextEncoderConfigInference.Infer(checkpoint);
        string inferred = checkpoint.Files is [GgufFile { IsLlamaCppLanguageModel: true }] ? "inferred from tensor shapes and GGUF metadata" : "inferred from tensor shapes";
        details.Add(new("configuration", (configPath ?? inferred) + (config.PublishedName is { } name ? $" ({name})" : "")));
        details.Add(new("architecture", config.Architecture.ToString()));
        details.Add(new("hidden size", Invariant(config.HiddenSize)));
        details.Add(new("layers", Invariant(config.NumLayers)));
        details.Add(new("heads", $"{config.NumHeads} x {config.HeadDim} (kv heads {config.NumKeyValueHeads})"));
        details.Add(new("stacked hidden states", string.Join(", ", config.FluxHiddenStateLayers)));
        if (checkpoint.Files is [GgufFile { HasTokenizer: true }]) details.Add(new("tokenizer", "carried in the GGUF file (tokenizer.ggml.*)"));
        int needed = config.FluxHiddenStateLayers[^1];
        if (config.NumLayers < needed)
            problems.Add($"{configPath ?? checkpoint.Path}: {config.NumLayers} layers, but FLUX.2 needs hidden state {needed}");

        var tensors = checkpoint.Names.Where(n => n.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(n => n, checkpoint.Info, StringComparer.Ordinal);
        int layers = Math.Min(needed, config.NumLayers);
        var requirements = TextEncoderWeights.ExpectedTensors(config, layers).SelectMany(t => t.IsLinear
            ? LinearRequirements.For(prefix + t.Name, t.Shape, LinearRequirements.StorageOf(tensors, prefix + t.Name))
            : [new TensorRequirement(prefix + t.Name, [t.Shape], TextEncoderNormDTypes)]).ToList();
        return (config, ValidationReport.Compare(requirements, tensors, n => TextEncoderWeights.IsUnread(n[prefix.Length..], layers)));
    }

    /// <summary>Fast tokenizers ship tokenizer.json; Mistral's also come as tekken.json; slow BPE ones as vocab.json + merges.txt.</summary>
    private static void DescribeTokenizer(CheckpointComponent files, List<KeyValuePair<string, string>> details, List<string> problems)
    {
        details.Add(new("files", string.Join(", ", files.FileNames)));
        if (files.TokenizerFile != null)
        {
            if (!SafeTensorsCheckpoint.IsGguf(files.TokenizerFile))
            {
                problems.Add($"{files.TokenizerFile} is not a tokenizer folder or a GGUF file carrying a tokenizer");
                return;
            }
            using var gguf = GgufFile.Open(files.TokenizerFile);
            if (!gguf.HasTokenizer) problems.Add($"{gguf.FilePath} carries no tokenizer (no tokenizer.ggml.* metadata)");
            return;
        }
        bool usable = files.FileNames.Contains("tokenizer.json") || files.FileNames.Contains("tekken.json")
            || (files.FileNames.Contains("vocab.json") && files.FileNames.Contains("merges.txt"));
        if (!usable) problems.Add($"no tokenizer.json (or tekken.json, or vocab.json + merges.txt) in {files.Directory}");
    }

    private static void DescribeScheduler(CheckpointComponent files, List<KeyValuePair<string, string>> details, List<string> problems)
    {
        if (files.ConfigPath == null || System.IO.Path.GetFileName(files.ConfigPath) != "scheduler_config.json")
        {
            problems.Add($"no scheduler_config.json in {files.Directory}");
            return;
        }
        using var doc = ReadJson(files.ConfigPath);
        if (SchedulerConfigRules.Problem(doc.RootElement) is { } problem) problems.Add($"{files.ConfigPath}: {problem}");
        foreach (var key in (string[])["use_dynamic_shifting", "num_train_timesteps", "shift"])
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(key, out var v))
                details.Add(new(key, v.GetRawText()));
    }

    /// <summary>The component's model config.json (not a scheduler or tokenizer config), if it has one.</summary>
    private static string? ModelConfigPath(CheckpointComponent files) =>
        files.ConfigPath != null && System.IO.Path.GetFileName(files.ConfigPath) == "config.json" ? files.ConfigPath : null;

    /// <summary>diffusers configs name their class in <c>_class_name</c>, transformers configs in <c>architectures</c>,
    /// tokenizer configs in <c>tokenizer_class</c>.</summary>
    private static string? DeclaredClass(string configPath)
    {
        using var doc = ReadJson(configPath);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new CheckpointException(configPath, $"expected a JSON object, found {root.ValueKind}");
        if (root.TryGetProperty("_class_name", out var c) && c.ValueKind == JsonValueKind.String) return c.GetString();
        if (root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
            && a[0].ValueKind == JsonValueKind.String) return a[0].GetString();
        if (root.TryGetProperty("tokenizer_class", out var t) && t.ValueKind == JsonValueKind.String) return t.GetString();
        return null;
    }

    private static JsonDocument ReadJson(string path) =>
        JsonText.ReadFile(path, (problem, cause) => new CheckpointException(path, problem, cause));

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);
}
