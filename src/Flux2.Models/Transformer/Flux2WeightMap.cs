namespace Flux2.Models.Transformer;

/// <summary>The two tensor naming schemes of FLUX.2 transformer checkpoints (spec §4.5).</summary>
public enum TensorNaming
{
    Diffusers,
    Bfl,
}

/// <summary>A tensor a checkpoint must hold, with its logical shape ([out, in] for Linear weights).</summary>
public sealed record ExpectedTensor(string Name, long[] Shape)
{
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";
}

/// <summary>Which tensors a FLUX.2 transformer checkpoint holds and how to recognise its naming (spec §4.4–4.5).</summary>
public static class Flux2WeightMap
{
    /// <summary>Prefixes that wrap the transformer's own names: ComfyUI exports and MAX's compiled modules.</summary>
    private static readonly string[] s_prefixes = ["model.diffusion_model.", "transformer."];

    /// <summary>Every tensor a bf16 transformer with <paramref name="config"/> holds, globals first, then blocks in order.</summary>
    public static IReadOnlyList<ExpectedTensor> ExpectedTensors(Flux2Config config, TensorNaming naming)
    {
        var names = Flux2TensorNames.For(naming);
        long d = config.InnerDim, m = config.MlpHidden, dh = config.AttentionHeadDim;
        var list = new List<ExpectedTensor>
        {
            new(names.ImgIn, [d, config.InChannels]),
            new(names.TxtIn, [d, config.JointAttentionDim]),
            new(names.TimeLinear1, [d, config.TimestepGuidanceChannels]),
            new(names.TimeLinear2, [d, d]),
        };
        if (config.GuidanceEmbeds)
        {
            list.Add(new(names.GuidanceLinear1, [d, config.TimestepGuidanceChannels]));
            list.Add(new(names.GuidanceLinear2, [d, d]));
        }
        list.Add(new(names.ModDoubleImg, [6 * d, d]));
        list.Add(new(names.ModDoubleTxt, [6 * d, d]));
        list.Add(new(names.ModSingle, [3 * d, d]));
        list.Add(new(names.FinalModulation, [2 * d, d]));
        list.Add(new(names.ProjOut, [(long)config.PatchSize * config.PatchSize * config.EffectiveOutChannels, d]));

        for (int i = 0; i < config.NumLayers; i++)
        {
            foreach (var s in new[] { names.DoubleImg(i), names.DoubleTxt(i) })
            {
                long qkvRows = 3 * d / s.Qkv.Count;
                foreach (var q in s.Qkv) list.Add(new(q, [qkvRows, d]));
                list.Add(new(s.NormQ, [dh]));
                list.Add(new(s.NormK, [dh]));
                list.Add(new(s.Out, [d, d]));
                list.Add(new(s.MlpIn, [2 * m, d]));
                list.Add(new(s.MlpOut, [d, m]));
            }
        }
        for (int j = 0; j < config.NumSingleLayers; j++)
        {
            var s = names.Single(j);
            list.Add(new(s.Linear1, [3 * d + 2 * m, d]));
            list.Add(new(s.Linear2, [d, d + m]));
            list.Add(new(s.NormQ, [dh]));
            list.Add(new(s.NormK, [dh]));
        }
        return list;
    }

    /// <summary>Removes the <c>model.diffusion_model.</c> and <c>transformer.</c> prefixes (spec §4.4).</summary>
    public static string StripPrefix(string name)
    {
        bool stripped;
        do
        {
            stripped = false;
            foreach (var p in s_prefixes)
            {
                if (name.StartsWith(p, StringComparison.Ordinal))
                {
                    name = name[p.Length..];
                    stripped = true;
                }
            }
        } while (stripped);
        return name;
    }

    /// <summary>The naming of a transformer checkpoint from its tensor names (prefixes allowed), or null when
    /// the names are neither (e.g. a VAE or a text encoder) or a mix of both.</summary>
    public static TensorNaming? DetectNaming(IEnumerable<string> names)
    {
        bool bfl = false, diffusers = false;
        foreach (var raw in names)
        {
            var n = StripPrefix(raw);
            if (n == Flux2TensorNames.Bfl.ImgIn || n.StartsWith("double_blocks.", StringComparison.Ordinal)) bfl = true;
            else if (n == Flux2TensorNames.Diffusers.ImgIn || n.StartsWith("transformer_blocks.", StringComparison.Ordinal)) diffusers = true;
        }
        return bfl == diffusers ? null : bfl ? TensorNaming.Bfl : TensorNaming.Diffusers;
    }
}
