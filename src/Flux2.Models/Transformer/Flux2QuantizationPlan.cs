using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Transformer;

/// <summary>
/// Which Linears of a transformer checkpoint run NVFP4, checked against what the checkpoint stores.
/// Double blocks follow <see cref="Flux2BlockQuant.Resolve"/> (spec §2.5) and a contradiction is an error;
/// single blocks are decided per tensor from the stored dtype, a disagreement with the metadata only a warning.
/// FP8 and float weights are always taken as stored (per tensor, spec §4.7): for the plan they are "not NVFP4".
/// </summary>
public sealed class Flux2QuantizationPlan
{
    /// <summary>The config with <see cref="Flux2Config.QuantConfig"/> and <see cref="Flux2Config.Nvfp4LayersBfl"/> filled from the checkpoint.</summary>
    public Flux2Config Config { get; }
    public IReadOnlyList<Flux2BlockQuant> DoubleBlocks { get; }
    /// <summary>Single-block Linears whose stored format disagrees with the metadata (they are used as stored).</summary>
    public IReadOnlyList<string> Warnings { get; }

    private Flux2QuantizationPlan(Flux2Config config, IReadOnlyList<Flux2BlockQuant> doubleBlocks, IReadOnlyList<string> warnings)
    {
        Config = config;
        DoubleBlocks = doubleBlocks;
        Warnings = warnings;
    }

    /// <summary>
    /// Completes <paramref name="config"/> from the checkpoint (spec §2.2 step 4: the union of every file's
    /// <c>_quantization_metadata</c>; an NVFP4 QuantConfig when the config has none but the checkpoint stores NVFP4
    /// Linears), resolves the per-block plan and verifies it against the stored tensors.
    /// </summary>
    /// <exception cref="QuantizationException">a double-block Linear is stored otherwise than the plan says</exception>
    public static Flux2QuantizationPlan Create(Flux2Config config, SafeTensorsCheckpoint checkpoint)
    {
        var stored = new StoredNames(checkpoint);
        var layers = QuantizationMetadata.ReadNvfp4Layers(checkpoint);
        var quant = config.QuantConfig
            ?? (stored.Any(n => IsNvfp4(checkpoint, n)) ? QuantConfig.MakeNvfp4Config(config.NumLayers + config.NumSingleLayers) : null);
        config = config with { QuantConfig = quant, Nvfp4LayersBfl = layers };
        var blocks = Enumerable.Range(0, config.NumLayers).Select(i => Flux2BlockQuant.Resolve(i, quant, layers)).ToList();

        var names = Flux2TensorNames.For(Flux2ConfigInference.RequireNaming(checkpoint.Names.Select(checkpoint.Info), checkpoint.Path));
        for (int i = 0; i < blocks.Count; i++)
        {
            var keys = Flux2BlockQuant.BflKeys(i);
            var fields = blocks[i].Fields;
            var tensors = FieldTensors(names, i);
            for (int f = 0; f < fields.Count; f++)
            {
                bool planned = fields[f] != null;
                foreach (var name in tensors[f])
                {
                    if (!stored.TryGet(name, out var storedName) || IsNvfp4(checkpoint, storedName) == planned) continue;
                    throw new QuantizationException(
                        $"{checkpoint.Path}: tensor '{storedName}' is stored as {Describe(checkpoint, storedName)}, but the quantization plan " +
                        $"runs double block {i} layer '{keys[f]}' {(planned ? "as NVFP4" : "unquantized")} ({Reason(quant, layers, keys[f])})");
                }
            }
        }

        var warnings = new List<string>();
        for (int j = 0; j < config.NumSingleLayers; j++)
        {
            var s = names.Single(j);
            foreach (var (name, key) in new[] { (s.Linear1, $"single_blocks.{j}.linear1"), (s.Linear2, $"single_blocks.{j}.linear2") })
            {
                if (!stored.TryGet(name, out var storedName)) continue;
                bool expected = quant != null && (layers.Count == 0 || layers.Contains(key));
                if (IsNvfp4(checkpoint, storedName) != expected)
                    warnings.Add($"{checkpoint.Path}: tensor '{storedName}' is stored as {Describe(checkpoint, storedName)} although " +
                        $"'{key}' is {(expected ? "" : "not ")}expected as NVFP4 ({Reason(quant, layers, key)}); it is used as stored");
            }
        }
        return new Flux2QuantizationPlan(config, blocks, warnings);
    }

    /// <summary>The tensors each <see cref="Flux2BlockQuant"/> field governs, in field order.</summary>
    private static IReadOnlyList<string>[] FieldTensors(Flux2TensorNames names, int block)
    {
        var img = names.DoubleImg(block);
        var txt = names.DoubleTxt(block);
        return [img.Qkv, [img.Out], txt.Qkv, [txt.Out], [img.MlpIn, img.MlpOut], [txt.MlpIn, txt.MlpOut]];
    }

    private static string Reason(QuantConfig? quant, IReadOnlySet<string> layers, string key) =>
        quant == null ? "the run is not NVFP4"
        : layers.Count == 0 ? "no _quantization_metadata: the legacy NVFP4 fallback keeps only the text-side double-block attention unquantized"
        : layers.Contains(key) ? "_quantization_metadata lists it as nvfp4"
        : "_quantization_metadata does not list it as nvfp4";

    /// <summary>NVFP4 as the loader decides it: a U8 weight with an F8_E4M3 .weight_scale sibling.</summary>
    private static bool IsNvfp4(SafeTensorsCheckpoint checkpoint, string weightName) =>
        checkpoint.Info(weightName).DType == DType.UInt8
        && checkpoint.Contains(StemOf(weightName) + ".weight_scale")
        && checkpoint.Info(StemOf(weightName) + ".weight_scale").DType == DType.Float8E4M3;

    private static string Describe(SafeTensorsCheckpoint checkpoint, string weightName) =>
        IsNvfp4(checkpoint, weightName) ? "NVFP4" : checkpoint.Info(weightName).DType.SafetensorsName();

    private static string StemOf(string weightName) => weightName[..^".weight".Length];

    /// <summary>Canonical (prefix-free) Linear weight names → the names the checkpoint stores them under.</summary>
    private sealed class StoredNames
    {
        private readonly Dictionary<string, string> _byCanonical = new(StringComparer.Ordinal);

        public StoredNames(SafeTensorsCheckpoint checkpoint)
        {
            foreach (var n in checkpoint.Names)
                if (n.EndsWith(".weight", StringComparison.Ordinal)) _byCanonical[Flux2WeightMap.StripPrefix(n)] = n;
        }

        public bool Any(Func<string, bool> predicate) => _byCanonical.Values.Any(predicate);

        public bool TryGet(string canonical, out string stored) => _byCanonical.TryGetValue(canonical, out stored!);
    }
}
