using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;

namespace Flux2.Models.Checkpoints;

/// <summary>What a set of tensors holds and in which naming scheme, recognised by key tensors (spec §4.7 step 2).</summary>
/// <param name="Prefix">what precedes a text encoder's language-model names ("model.", ...); "" for other kinds</param>
public sealed record WeightsContent(ComponentKind Kind, string Naming, string Prefix = "")
{
    public const string BflNaming = "BFL";
    public const string DiffusersNaming = "diffusers";

    public static WeightsContent Unrecognized { get; } = new(ComponentKind.Unknown, "unrecognized");

    public static WeightsContent Detect(IReadOnlyCollection<string> names)
    {
        var transformer = Flux2WeightMap.DetectNaming(names);
        if (transformer != null) return new(ComponentKind.Transformer, transformer == TensorNaming.Bfl ? BflNaming : DiffusersNaming);

        var set = names as IReadOnlySet<string> ?? names.ToHashSet(StringComparer.Ordinal);
        if (set.Contains("encoder.down.0.block.0.conv1.weight") || set.Contains("decoder.up.0.block.0.conv1.weight"))
            return new(ComponentKind.Vae, BflNaming);
        if (set.Contains("encoder.down_blocks.0.resnets.0.conv1.weight") || set.Contains("decoder.up_blocks.0.resnets.0.conv1.weight"))
            return new(ComponentKind.Vae, DiffusersNaming);

        foreach (var prefix in TextEncoderWeights.Prefixes)
        {
            string layer0 = prefix + TextEncoderLayerWeights.Prefix(0);
            if (!set.Contains(prefix + TextEncoderWeights.EmbeddingName) && !set.Contains(layer0 + TextEncoderLayerWeights.QName)) continue;
            var architecture = set.Contains(layer0 + TextEncoderLayerWeights.QNormName) ? TextEncoderArchitecture.Qwen3 : TextEncoderArchitecture.Mistral;
            return new(ComponentKind.TextEncoder, $"transformers ({architecture}, prefix '{prefix}')", prefix);
        }
        return Unrecognized;
    }
}
