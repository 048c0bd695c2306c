namespace Flux2.Models.Lora;

/// <summary>What one tensor of a LoRA file holds for the module it adapts.</summary>
public enum LoraTensorRole
{
    /// <summary>A [rank, in]: PEFT's <c>lora_A</c>, kohya's <c>lora_down</c>.</summary>
    Down,
    /// <summary>B [out, rank]: PEFT's <c>lora_B</c>, kohya's <c>lora_up</c>.</summary>
    Up,
    /// <summary>The scalar alpha: the update B·A is scaled by alpha / rank.</summary>
    Alpha,
}

/// <summary>
/// A LoRA tensor name split into the module it adapts and its role. The formats in use differ only in spelling:
/// diffusers / PEFT <c>transformer.transformer_blocks.0.attn.to_q.lora_A.weight</c> (or <c>base_model.model.</c>),
/// BFL / ai-toolkit / ComfyUI <c>diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight</c>, kohya
/// <c>lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight</c> with <c>.alpha</c> (or <c>lora_transformer_</c> before
/// underscored diffusers names). The module keeps its spelling (dotted or underscored, either naming);
/// <see cref="LoraTargets.Find"/> resolves it.
/// </summary>
public readonly record struct LoraKey(string Module, LoraTensorRole Role)
{
    private static readonly (string Suffix, LoraTensorRole Role)[] s_suffixes =
    [
        (".lora_A.weight", LoraTensorRole.Down), (".lora_down.weight", LoraTensorRole.Down), (".lora.down.weight", LoraTensorRole.Down),
        (".lora_B.weight", LoraTensorRole.Up), (".lora_up.weight", LoraTensorRole.Up), (".lora.up.weight", LoraTensorRole.Up),
        (".alpha", LoraTensorRole.Alpha),
    ];

    /// <summary>PEFT's adapter wrapper, the diffusers pipeline component, BFL / ComfyUI model wrappers, kohya's network prefixes.</summary>
    private static readonly string[] s_prefixes =
        ["base_model.model.", "transformer.", "model.diffusion_model.", "diffusion_model.", "lora_unet_", "lora_transformer_"];

    /// <summary>The module and role of <paramref name="key"/>, or null when its suffix is none of the LoRA tensors
    /// (DoRA magnitudes, LoCon mid weights, bias deltas and other adapter types are not low-rank pairs).</summary>
    public static LoraKey? Parse(string key)
    {
        foreach (var (suffix, role) in s_suffixes)
        {
            if (!key.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var module = StripPrefixes(key[..^suffix.Length]);
            return module.Length == 0 ? null : new LoraKey(module, role);
        }
        return null;
    }

    private static string StripPrefixes(string module)
    {
        bool stripped;
        do
        {
            stripped = false;
            foreach (var prefix in s_prefixes)
            {
                if (module.StartsWith(prefix, StringComparison.Ordinal))
                {
                    module = module[prefix.Length..];
                    stripped = true;
                }
            }
        } while (stripped);
        return module;
    }
}
