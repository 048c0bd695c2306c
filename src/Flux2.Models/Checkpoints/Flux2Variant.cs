namespace Flux2.Models.Checkpoints;

/// <summary>The published FLUX.2 transformers (spec §1.1).</summary>
public enum Flux2Model
{
    Dev,
    Klein4B,
    Klein9B,
}

/// <summary>
/// Which FLUX.2 a checkpoint is: the published transformer its shapes match (null: none, a custom size) and,
/// for klein, whether it is the step-distilled model or the base model (null: the files do not say).
/// </summary>
public sealed record Flux2Variant(Flux2Model? Model, bool? IsDistilled)
{
    public static Flux2Config Preset(Flux2Model model) => model switch
    {
        Flux2Model.Dev => Flux2Config.Dev(),
        Flux2Model.Klein4B => Flux2Config.Klein4B(),
        Flux2Model.Klein9B => Flux2Config.Klein9B(),
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary>The published transformer whose architecture <paramref name="config"/> has (dtype, devices and
    /// quantization aside), or null.</summary>
    public static Flux2Model? Match(Flux2Config config) =>
        Enum.GetValues<Flux2Model>().Select(m => (Flux2Model?)m).FirstOrDefault(m => SameArchitecture(Preset(m!.Value), config));

    private static bool SameArchitecture(Flux2Config a, Flux2Config b) =>
        a.PatchSize == b.PatchSize && a.InChannels == b.InChannels && a.EffectiveOutChannels == b.EffectiveOutChannels
        && a.NumLayers == b.NumLayers && a.NumSingleLayers == b.NumSingleLayers
        && a.AttentionHeadDim == b.AttentionHeadDim && a.NumAttentionHeads == b.NumAttentionHeads
        && a.JointAttentionDim == b.JointAttentionDim && a.TimestepGuidanceChannels == b.TimestepGuidanceChannels
        && a.MlpHidden == b.MlpHidden && a.AxesDimsRope.SequenceEqual(b.AxesDimsRope)
        && a.RopeTheta == b.RopeTheta && a.GuidanceEmbeds == b.GuidanceEmbeds;

    /// <summary>A BFL klein file records distillation only in its name (spec §4.7 step 5):
    /// <c>flux-2-klein-base-4b.safetensors</c> is base, <c>flux-2-klein-4b.safetensors</c> distilled.</summary>
    public static bool? DistilledFromFileName(string fileName)
    {
        var name = fileName.ToLowerInvariant();
        if (!name.Contains("klein", StringComparison.Ordinal)) return null;
        return !name.Contains("base", StringComparison.Ordinal);
    }

    /// <summary>Whether a klein file name says 9B-KV, the model that caches its reference images' keys and values
    /// (BFL's <c>flux-2-klein-9b-kv.safetensors</c>): "kv" as a word of the name.</summary>
    public static bool ReferenceKvFromFileName(string fileName)
    {
        var name = fileName.ToLowerInvariant();
        return name.Contains("klein", StringComparison.Ordinal)
            && Path.GetFileNameWithoutExtension(name).Split('-', '_', '.', ' ').Contains("kv");
    }

    /// <summary>"dev", "klein-4B", "klein-9B".</summary>
    public static string ModelName(Flux2Model model) => model switch
    {
        Flux2Model.Dev => "dev",
        Flux2Model.Klein4B => "klein-4B",
        Flux2Model.Klein9B => "klein-9B",
        _ => throw new ArgumentOutOfRangeException(nameof(model), model, null),
    };

    /// <summary>"dev", "klein-4B (distilled)", "klein-base-9B", "klein-4B (distilled or base: not recorded ...)", "custom (...)".</summary>
    public string Name => Model switch
    {
        null => "custom (no published FLUX.2 transformer has these shapes)",
        Flux2Model.Dev => "dev",
        { } m when IsDistilled == true => $"{ModelName(m)} (distilled)",
        { } m when IsDistilled == false => ModelName(m).Replace("klein-", "klein-base-", StringComparison.Ordinal),
        { } m => $"{ModelName(m)} (distilled or base: not recorded in the files)",
    };
}
