using Flux2.Models.Transformer;

namespace Flux2.Models.Lora;

/// <summary>Rows [SourceRow, SourceRow + Rows) of a LoRA module's output are rows [TargetRow, ...) of the transformer's
/// Linear <paramref name="Weight"/> (its tensor name without prefix).</summary>
public readonly record struct LoraRowRange(string Weight, int SourceRow, int TargetRow, int Rows);

/// <summary>A Linear a LoRA module adapts: its name (without <c>.weight</c>), shape [out, in] in the LoRA's naming, and
/// where its output rows lie in the transformer's weights.</summary>
public sealed record LoraModuleTarget(string Module, int OutFeatures, int InFeatures, IReadOnlyList<LoraRowRange> Ranges);

/// <summary>
/// Where each Linear a LoRA can adapt, named in either naming (spec §4.5), lies in a transformer of one naming. The
/// namings cut the same outputs differently: BFL's fused <c>qkv</c> is diffusers' <c>to_q | to_k | to_v</c>, and BFL's final
/// modulation [shift | scale] is diffusers' <c>norm_out.linear</c> [scale | shift] (spec §4.6). So a module is resolved into
/// row ranges of the model's weights: a fused-qkv LoRA on split projections gives each third of its B to one of them,
/// split LoRAs on a fused qkv write disjoint row blocks of it.
/// </summary>
public sealed class LoraTargets
{
    private readonly Dictionary<string, LoraModuleTarget> _modules = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _kohyaNames = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (int Out, int In)> _weights = new(StringComparer.Ordinal);

    /// <summary>One Linear in both namings: BFL's weight holds <c>parts</c> equal row blocks in order; the diffusers
    /// weights hold the parts listed with each, in their row order.</summary>
    private sealed record LinearPair(string Bfl, int Parts, (string Name, int[] Parts)[] Diffusers);

    private LoraTargets(Flux2Config config, TensorNaming naming)
    {
        var bflShapes = Flux2WeightMap.ExpectedTensors(config, TensorNaming.Bfl).ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        foreach (var pair in Pairs(config))
        {
            int outFeatures = checked((int)bflShapes[pair.Bfl][0]), inFeatures = checked((int)bflShapes[pair.Bfl][1]);
            int partRows = outFeatures / pair.Parts;
            // Where BFL part p lies in this model's weights.
            var location = new (string Weight, int Row)[pair.Parts];
            if (naming == TensorNaming.Bfl)
            {
                for (int p = 0; p < pair.Parts; p++) location[p] = (pair.Bfl, p * partRows);
                _weights[pair.Bfl] = (outFeatures, inFeatures);
            }
            else
            {
                foreach (var (name, parts) in pair.Diffusers)
                {
                    for (int k = 0; k < parts.Length; k++) location[parts[k]] = (name, k * partRows);
                    _weights[name] = (parts.Length * partRows, inFeatures);
                }
            }
            Add(pair.Bfl, Enumerable.Range(0, pair.Parts).ToArray());
            foreach (var (name, parts) in pair.Diffusers) Add(name, parts);

            void Add(string weight, int[] parts)
            {
                var module = weight[..^".weight".Length];
                var ranges = parts.Select((p, k) => new LoraRowRange(location[p].Weight, k * partRows, location[p].Row, partRows)).ToArray();
                _modules.Add(module, new LoraModuleTarget(module, parts.Length * partRows, inFeatures, ranges));
                _kohyaNames.Add(module.Replace('.', '_'), module);
            }
        }
    }

    /// <summary>The targets of a transformer with <paramref name="config"/> whose checkpoint uses <paramref name="naming"/>.</summary>
    public static LoraTargets For(Flux2Config config, TensorNaming naming) => new(config, naming);

    /// <summary>Every module a LoRA can adapt, in both namings (dotted, without <c>.weight</c>).</summary>
    public IEnumerable<string> Modules => _modules.Keys;

    /// <summary>The Linear <paramref name="module"/> names (BFL or diffusers, dotted or kohya-underscored), or null when it
    /// is no Linear of this transformer (another model's layer, a block this one does not have, a norm).</summary>
    public LoraModuleTarget? Find(string module) =>
        _modules.TryGetValue(module, out var target) || _kohyaNames.TryGetValue(module, out var dotted) && _modules.TryGetValue(dotted, out target)
            ? target
            : null;

    /// <summary>The shape [out, in] of the transformer's Linear <paramref name="weight"/> (a <see cref="LoraRowRange.Weight"/>).</summary>
    public (int Out, int In) WeightShape(string weight) => _weights[weight];

    private static IEnumerable<LinearPair> Pairs(Flux2Config config)
    {
        var b = Flux2TensorNames.Bfl;
        var d = Flux2TensorNames.Diffusers;
        LinearPair Whole(string bfl, string diffusers) => new(bfl, 1, [(diffusers, [0])]);

        yield return Whole(b.ImgIn, d.ImgIn);
        yield return Whole(b.TxtIn, d.TxtIn);
        yield return Whole(b.TimeLinear1, d.TimeLinear1);
        yield return Whole(b.TimeLinear2, d.TimeLinear2);
        if (config.GuidanceEmbeds)
        {
            yield return Whole(b.GuidanceLinear1, d.GuidanceLinear1);
            yield return Whole(b.GuidanceLinear2, d.GuidanceLinear2);
        }
        yield return Whole(b.ModDoubleImg, d.ModDoubleImg);
        yield return Whole(b.ModDoubleTxt, d.ModDoubleTxt);
        yield return Whole(b.ModSingle, d.ModSingle);
        yield return new LinearPair(b.FinalModulation, 2, [(d.FinalModulation, [1, 0])]);
        yield return Whole(b.ProjOut, d.ProjOut);
        for (int i = 0; i < config.NumLayers; i++)
        {
            foreach (var (bs, ds) in new[] { (b.DoubleImg(i), d.DoubleImg(i)), (b.DoubleTxt(i), d.DoubleTxt(i)) })
            {
                yield return new LinearPair(bs.Qkv[0], 3, [(ds.Qkv[0], [0]), (ds.Qkv[1], [1]), (ds.Qkv[2], [2])]);
                yield return Whole(bs.Out, ds.Out);
                yield return Whole(bs.MlpIn, ds.MlpIn);
                yield return Whole(bs.MlpOut, ds.MlpOut);
            }
        }
        for (int j = 0; j < config.NumSingleLayers; j++)
        {
            yield return Whole(b.Single(j).Linear1, d.Single(j).Linear1);
            yield return Whole(b.Single(j).Linear2, d.Single(j).Linear2);
        }
    }
}
