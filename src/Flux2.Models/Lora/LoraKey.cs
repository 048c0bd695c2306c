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
    /// <summary>LyCORIS LoHa, ΔW = (w1_a·w1_b) ⊙ (w2_a·w2_b): <c>hada_w1_a</c> [out, r₁].</summary>
    HadaW1A,
    /// <summary><c>hada_w1_b</c> [r₁, in].</summary>
    HadaW1B,
    /// <summary><c>hada_w2_a</c> [out, r₂].</summary>
    HadaW2A,
    /// <summary><c>hada_w2_b</c> [r₂, in].</summary>
    HadaW2B,
    /// <summary>LyCORIS LoKr, ΔW = w1 ⊗ w2: <c>lokr_w1</c> [a, b], or its factors <c>lokr_w1_a</c> [a, r] and <c>lokr_w1_b</c> [r, b].</summary>
    LokrW1,
    LokrW1A,
    LokrW1B,
    /// <summary><c>lokr_w2</c> [c, d] (a·c = out, b·d = in), or its factors <c>lokr_w2_a</c> [c, r] and <c>lokr_w2_b</c> [r, d].</summary>
    LokrW2,
    LokrW2A,
    LokrW2B,
    /// <summary>A DoRA module's magnitudes, one per output of the layer: PEFT's <c>lora_magnitude_vector</c> [out], LyCORIS'
    /// <c>dora_scale</c> [out, 1] (any adapter kind may have one).</summary>
    Magnitude,
}

/// <summary>The adapter a module's tensors make: a LoRA pair, a LyCORIS LoHa or a LyCORIS LoKr.</summary>
public enum AdapterKind
{
    LoRA,
    LoHa,
    LoKr,
}

/// <summary>
/// A LoRA tensor name split into the module it adapts and its role. The formats in use differ only in spelling:
/// diffusers / PEFT <c>transformer.transformer_blocks.0.attn.to_q.lora_A.weight</c> (or <c>base_model.model.</c>),
/// BFL / ai-toolkit / ComfyUI <c>diffusion_model.double_blocks.0.img_attn.qkv.lora_B.weight</c>, kohya
/// <c>lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight</c> with <c>.alpha</c> (or <c>lora_transformer_</c> before
/// underscored diffusers names), and LyCORIS' LoHa and LoKr tensors in any of these spellings or its own
/// <c>lycoris_transformer_blocks_0_attn_to_q.lokr_w1</c>. The module keeps its spelling (dotted or underscored, either naming);
/// <see cref="LoraTargets.Find"/> resolves it.
/// </summary>
public readonly record struct LoraKey(string Module, LoraTensorRole Role)
{
    private static readonly (string Suffix, LoraTensorRole Role)[] s_suffixes =
    [
        (".lora_A.weight", LoraTensorRole.Down), (".lora_down.weight", LoraTensorRole.Down), (".lora.down.weight", LoraTensorRole.Down),
        (".lora_B.weight", LoraTensorRole.Up), (".lora_up.weight", LoraTensorRole.Up), (".lora.up.weight", LoraTensorRole.Up),
        (".alpha", LoraTensorRole.Alpha),
        (".hada_w1_a", LoraTensorRole.HadaW1A), (".hada_w1_b", LoraTensorRole.HadaW1B),
        (".hada_w2_a", LoraTensorRole.HadaW2A), (".hada_w2_b", LoraTensorRole.HadaW2B),
        (".lokr_w1", LoraTensorRole.LokrW1), (".lokr_w1_a", LoraTensorRole.LokrW1A), (".lokr_w1_b", LoraTensorRole.LokrW1B),
        (".lokr_w2", LoraTensorRole.LokrW2), (".lokr_w2_a", LoraTensorRole.LokrW2A), (".lokr_w2_b", LoraTensorRole.LokrW2B),
        (".dora_scale", LoraTensorRole.Magnitude), (".lora_magnitude_vector", LoraTensorRole.Magnitude),
        (".lora_magnitude_vector.weight", LoraTensorRole.Magnitude),
    ];

    /// <summary>PEFT's adapter wrapper, the diffusers pipeline component, BFL / ComfyUI model wrappers, kohya's and LyCORIS'
    /// network prefixes.</summary>
    private static readonly string[] s_prefixes =
        ["base_model.model.", "transformer.", "model.diffusion_model.", "diffusion_model.", "lora_unet_", "lora_transformer_", "lycoris_"];

    /// <summary>The module and role of <paramref name="key"/>, or null when its suffix is none of the LoRA tensors
    /// (LoCon mid weights, Tucker cores, bias deltas and other adapter types).</summary>
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

    /// <summary>The adapter kind a tensor of <paramref name="role"/> belongs to; null for an alpha or a DoRA magnitude, which
    /// every kind may have.</summary>
    public static AdapterKind? KindOf(LoraTensorRole role) => role switch
    {
        LoraTensorRole.Down or LoraTensorRole.Up => AdapterKind.LoRA,
        LoraTensorRole.Alpha or LoraTensorRole.Magnitude => null,
        LoraTensorRole.HadaW1A or LoraTensorRole.HadaW1B or LoraTensorRole.HadaW2A or LoraTensorRole.HadaW2B => AdapterKind.LoHa,
        _ => AdapterKind.LoKr,
    };

    /// <summary>The first spelling of <paramref name="role"/>'s suffix: <c>.lora_A.weight</c>, <c>.alpha</c>, <c>.hada_w1_a</c>, ...</summary>
    public static string SuffixOf(LoraTensorRole role) => s_suffixes.First(s => s.Role == role).Suffix;

    /// <summary>Whether tensors named <paramref name="names"/> are an adapter file's rather than a model's: most of them are
    /// LoRA, LoHa or LoKr tensors.</summary>
    public static bool LooksLikeAdapter(IReadOnlyCollection<string> names)
    {
        int adapter = names.Count(n => Parse(n) != null);
        return adapter > 0 && 2 * adapter >= names.Count;
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
