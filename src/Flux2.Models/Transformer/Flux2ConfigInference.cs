using System.Globalization;
using Flux2.Core;
using Flux2.Core.SafeTensors;
using Flux2.Models.Lora;

namespace Flux2.Models.Transformer;

/// <summary>
/// Derives a <see cref="Flux2Config"/> from a transformer checkpoint's tensor shapes (spec §4.7), or checks a
/// config.json against them. A BFL single file carries no config; a diffusers folder has transformer/config.json.
/// </summary>
public static class Flux2ConfigInference
{
    /// <summary>The config of <paramref name="checkpoint"/>: read from <paramref name="configJsonPath"/> when given
    /// (and checked against the shapes), inferred from the shapes otherwise. <paramref name="encoding"/> (MAX's
    /// quantization encoding) defaults to bfloat16 for a config.json and to the weights' own type when inferred;
    /// <paramref name="devices"/> defaults to the CPU.</summary>
    public static Flux2Config Load(SafeTensorsCheckpoint checkpoint, string? configJsonPath = null, string? encoding = null,
        IReadOnlyList<DeviceRef>? devices = null)
    {
        var tensors = checkpoint.Names.Select(checkpoint.Info).ToList();
        if (configJsonPath == null)
        {
            var inferred = Infer(tensors, checkpoint.Path);
            if (encoding != null) inferred = inferred.WithEncoding(encoding);
            return devices != null ? inferred with { Devices = devices.ToArray() } : inferred;
        }
        // The encoding is applied after the block counts are checked: NVFP4's quantization config is sized by them.
        var config = Flux2Config.FromJsonFile(configJsonPath, "bfloat16", devices);
        var naming = RequireNaming(tensors, checkpoint.Path);
        CheckBlockCounts(config, tensors, naming, $"{checkpoint.Path} (config {configJsonPath})");
        if (encoding != null) config = config.WithEncoding(encoding);
        // MAX: a checkpoint without guidance-embedder tensors runs without guidance whatever config.json says.
        var byName = ByStrippedName(tensors);
        if (config.GuidanceEmbeds && !byName.ContainsKey(Flux2TensorNames.For(naming).GuidanceLinear1))
            config = config with { GuidanceEmbeds = false };
        CheckShapes(config, tensors, naming, $"{checkpoint.Path} (config {configJsonPath})");
        return config;
    }

    /// <summary>Infers the config from tensor shapes; <paramref name="source"/> names the checkpoint in errors.</summary>
    public static Flux2Config Infer(IEnumerable<TensorInfo> tensors, string source)
    {
        var list = tensors as IReadOnlyCollection<TensorInfo> ?? tensors.ToList();
        var naming = RequireNaming(list, source);
        var names = Flux2TensorNames.For(naming);
        var byName = ByStrippedName(list);

        TensorInfo Need(string name) => byName.TryGetValue(name, out var t)
            ? t
            : throw new Flux2ConfigException($"{source}: missing tensor '{name}' needed to infer the transformer configuration");
        long Rows(string name) => Need(name).Shape.Length == 2 ? Need(name).Shape[0]
            : throw new Flux2ConfigException($"{source}: tensor '{name}' must be 2-D, found {Need(name).ShapeText}");

        var imgIn = Need(names.ImgIn);
        if (imgIn.Shape.Length != 2) throw new Flux2ConfigException($"{source}: tensor '{names.ImgIn}' must be 2-D [D, 128], found {imgIn.ShapeText}");
        var txtIn = Need(names.TxtIn);
        if (txtIn.Shape.Length != 2) throw new Flux2ConfigException($"{source}: tensor '{names.TxtIn}' must be 2-D [D, ctx], found {txtIn.ShapeText}");
        var time1 = Need(names.TimeLinear1);
        if (time1.Shape.Length != 2) throw new Flux2ConfigException($"{source}: tensor '{names.TimeLinear1}' must be 2-D [D, 256], found {time1.ShapeText}");
        int d = ToInt(imgIn.Shape[0], names.ImgIn, source);

        int doubles = BlockCount(byName.Keys, names.DoublePrefix(0)[..^2]);
        int singles = BlockCount(byName.Keys, names.SinglePrefix(0)[..^2]);

        // The QK-norm weight length is the head dim; the real models all use 128.
        string? normName = doubles > 0 ? names.DoubleImg(0).NormQ : singles > 0 ? names.Single(0).NormQ : null;
        int headDim = 128;
        if (normName != null)
        {
            var norm = Need(normName);
            if (norm.Shape.Length != 1) throw new Flux2ConfigException($"{source}: tensor '{normName}' must be 1-D [head_dim], found {norm.ShapeText}");
            headDim = ToInt(norm.Shape[0], normName, source);
        }
        if (headDim <= 0 || d % headDim != 0)
            throw new Flux2ConfigException($"{source}: hidden size {d} (rows of '{names.ImgIn}') is not a multiple of the head dim {headDim} (length of '{normName}')");
        if (headDim % 8 != 0)
            throw new Flux2ConfigException($"{source}: head dim {headDim} (length of '{normName}') cannot be split into 4 even RoPE axes; pass a config.json");

        // MLP hidden size from the double-block linear_in ([2M, D]) or the single-block linear1 ([3D + 2M, D]).
        long mlp2 = doubles > 0 ? Rows(names.DoubleImg(0).MlpIn) : singles > 0 ? Rows(names.Single(0).Linear1) - 3L * d : 0;
        if (mlp2 <= 0 || mlp2 % 2 != 0)
            throw new Flux2ConfigException($"{source}: cannot derive the MLP hidden size (2M = {mlp2}) from the block weights");
        long mlp = mlp2 / 2;
        double ratio = (double)mlp / d;
        if ((int)(d * ratio) != mlp) ratio = Math.BitIncrement(ratio);

        int outRows = byName.TryGetValue(names.ProjOut, out var projOut) && projOut.Shape.Length == 2 ? ToInt(projOut.Shape[0], names.ProjOut, source) : 0;
        int inChannels = ToInt(imgIn.Shape[1], names.ImgIn, source);
        var config = new Flux2Config
        {
            InChannels = inChannels,
            OutChannels = outRows == inChannels || outRows == 0 ? null : outRows,
            NumLayers = doubles,
            NumSingleLayers = singles,
            AttentionHeadDim = headDim,
            NumAttentionHeads = d / headDim,
            JointAttentionDim = ToInt(txtIn.Shape[1], names.TxtIn, source),
            TimestepGuidanceChannels = ToInt(time1.Shape[1], names.TimeLinear1, source),
            MlpRatio = ratio,
            AxesDimsRope = [headDim / 4, headDim / 4, headDim / 4, headDim / 4],
            GuidanceEmbeds = byName.ContainsKey(names.GuidanceLinear1),
            DType = imgIn.DType is DType.Float32 or DType.Float16 ? imgIn.DType : DType.BFloat16,
            Devices = [DeviceRef.Cpu()],
        };
        config.Validate($"{source} (inferred from tensor shapes)");
        CheckShapes(config, list, naming, source);
        return config;
    }

    /// <summary>
    /// Checks that every tensor of <see cref="Flux2WeightMap.ExpectedTensors"/> is present with its shape. A U8 Linear
    /// weight is packed FP4 (two values per byte), so its stored column count is half the logical one.
    /// Additional tensors (quantization scales) are allowed.
    /// </summary>
    public static void CheckShapes(Flux2Config config, IEnumerable<TensorInfo> tensors, TensorNaming naming, string source)
    {
        CheckBlockCounts(config, tensors, naming, source);
        var byName = ByStrippedName(tensors);
        foreach (var e in Flux2WeightMap.ExpectedTensors(config, naming))
        {
            if (!byName.TryGetValue(e.Name, out var t))
                throw new Flux2ConfigException($"{source}: missing tensor '{e.Name}' (expected shape {e.ShapeText})");
            var expected = (long[])e.Shape.Clone();
            if (t.DType == DType.UInt8 && expected.Length == 2) expected[1] /= 2;
            if (!t.Shape.SequenceEqual(expected))
                throw new Flux2ConfigException($"{source}: tensor '{e.Name}' has shape {t.ShapeText}, expected [{string.Join(", ", expected)}] " +
                    $"for hidden {config.InnerDim}, heads {config.NumAttentionHeads} x {config.AttentionHeadDim}, " +
                    $"ctx {config.JointAttentionDim}, mlp {config.MlpRatio.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    /// <summary>
    /// Refuses a config that asks for more blocks than the checkpoint holds, before anything sized by its counts is built:
    /// <c>"num_layers": 1000000000</c> must not make a loader or a report enumerate a billion blocks.
    /// </summary>
    public static void CheckBlockCounts(Flux2Config config, IEnumerable<TensorInfo> tensors, TensorNaming naming, string source)
    {
        var names = Flux2TensorNames.For(naming);
        var present = ByStrippedName(tensors).Keys;
        int doubles = BlockCount(present, names.DoublePrefix(0)[..^2]);
        int singles = BlockCount(present, names.SinglePrefix(0)[..^2]);
        if (config.NumLayers > doubles || config.NumSingleLayers > singles)
            throw new Flux2ConfigException($"{source}: num_layers {config.NumLayers} and num_single_layers {config.NumSingleLayers}, " +
                $"but the checkpoint holds {doubles} double and {singles} single blocks");
    }

    /// <summary>The naming of <paramref name="tensors"/>, or an error naming <paramref name="source"/>.</summary>
    public static TensorNaming RequireNaming(IEnumerable<TensorInfo> tensors, string source)
    {
        var names = tensors.Select(t => t.Name).ToList();
        // An adapter names the model's layers too (a PEFT LoRA even looks diffusers-named): say what it is instead.
        if (LoraKey.LooksLikeAdapter(names))
            throw new Flux2ConfigException($"{source}: a LoRA / LyCORIS adapter, not a FLUX.2 transformer checkpoint; apply it to a model as a LoRA " +
                "(--lora FILE; flux2 info FILE says which models it fits)");
        return Flux2WeightMap.DetectNaming(names)
            ?? throw new Flux2ConfigException($"{source}: not a FLUX.2 transformer checkpoint " +
                $"(expected '{Flux2TensorNames.Bfl.ImgIn}' and 'double_blocks.*' (BFL) or '{Flux2TensorNames.Diffusers.ImgIn}' and 'transformer_blocks.*' (diffusers))");
    }

    private static Dictionary<string, TensorInfo> ByStrippedName(IEnumerable<TensorInfo> tensors)
    {
        var map = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (var t in tensors) map[Flux2WeightMap.StripPrefix(t.Name)] = t;
        return map;
    }

    /// <summary>1 + the largest N among names "{prefix}N.…" (0 when there is none).</summary>
    private static int BlockCount(IEnumerable<string> names, string prefix)
    {
        int count = 0;
        foreach (var n in names)
        {
            if (!n.StartsWith(prefix, StringComparison.Ordinal)) continue;
            int end = n.IndexOf('.', prefix.Length);
            if (end > prefix.Length && int.TryParse(n.AsSpan(prefix.Length, end - prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var i))
                count = Math.Max(count, i + 1);
        }
        return count;
    }

    private static int ToInt(long value, string name, string source) =>
        value is > 0 and <= int.MaxValue ? (int)value : throw new Flux2ConfigException($"{source}: tensor '{name}' has an impossible dimension {value}");
}
