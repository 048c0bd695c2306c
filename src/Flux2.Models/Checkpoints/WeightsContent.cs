using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;

namespace Flux2.Models.Checkpoints;

/// <summary>What a set of tensors holds and in which naming scheme, recognised by key tensors (spec §4.7 step 2).</summary>
public sealed record WeightsContent(ComponentKind Kind, string Naming)
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
            if (!set.Contains(prefix + "embed_tokens.weight") && !set.Contains(prefix + "layers.0.self_attn.q_proj.weight")) continue;
            var architecture = set.Contains(prefix + "layers.0.self_attn.q_norm.weight") ? TextEncoderArchitecture.Qwen3 : TextEncoderArchitecture.Mistral;
            return new(ComponentKind.TextEncoder, $"transformers ({architecture}, prefix '{prefix}')");
        }
        return Unrecognized;
    }
}
