using Flux2.Core;
using Flux2.Core.Quantization;
using Flux2.Core.SafeTensors;
using Flux2.Models.Transformer;

namespace Flux2.Models.Quantization;

/// <summary>What <see cref="Flux2CheckpointQuantizer.Quantize"/> wrote.</summary>
public sealed record QuantizeSummary(int Tensors, IReadOnlyList<string> QuantizedLayers, long InputBytes, long OutputBytes);

/// <summary>
/// Quantizes a float transformer checkpoint (BFL or diffusers names, F32/BF16/F16) into a published layout with
/// BFL names (golden README §7): the Linears of <see cref="QuantizedLayers"/> become NVFP4 or FP8, everything else is
/// copied as stored, and the header gets <c>_quantization_metadata</c>. Activation scales (<c>input_scale</c>) need
/// calibration data and are not written; the loader does not use them.
/// </summary>
public static class Flux2CheckpointQuantizer
{
    /// <summary>The BFL module names the official files quantize: NVFP4 is the dev layer set of spec §5.6 (the text-side
    /// double-block attention stays bf16), FP8 every double-block Linear of both streams; both take every single-block Linear.</summary>
    public static IReadOnlyList<string> QuantizedLayers(QuantizedCheckpointFormat format, Flux2Config config)
    {
        var layers = new List<string>();
        string[] doubleLayers = format == QuantizedCheckpointFormat.Nvfp4
            ? ["img_attn.qkv", "img_attn.proj", "img_mlp.0", "img_mlp.2", "txt_mlp.0", "txt_mlp.2"]
            : ["img_attn.qkv", "img_attn.proj", "img_mlp.0", "img_mlp.2", "txt_attn.qkv", "txt_attn.proj", "txt_mlp.0", "txt_mlp.2"];
        for (int i = 0; i < config.NumLayers; i++) layers.AddRange(doubleLayers.Select(l => $"double_blocks.{i}.{l}"));
        for (int j = 0; j < config.NumSingleLayers; j++) layers.AddRange([$"single_blocks.{j}.linear1", $"single_blocks.{j}.linear2"]);
        return layers;
    }

    /// <summary>Reads <paramref name="inputPath"/> (a .safetensors file or shard index) and writes <paramref name="outputPath"/>
    /// atomically: on any error no file appears under that name.</summary>
    public static QuantizeSummary Quantize(string inputPath, string outputPath, QuantizedCheckpointFormat format)
    {
        using var input = SafeTensorsCheckpoint.Open(inputPath);
        var config = Flux2ConfigInference.Load(input);
        var naming = Flux2ConfigInference.RequireNaming(input.Names.Select(input.Info), input.Path);
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var n in input.Names) stored[Flux2WeightMap.StripPrefix(n)] = n;
        var quantized = QuantizedLayers(format, config).ToHashSet(StringComparer.Ordinal);
        string formatName = format == QuantizedCheckpointFormat.Nvfp4 ? QuantizationMetadata.Nvfp4Format : QuantizationMetadata.Fp8Format;

        var writer = new SafeTensorsWriter();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in BflTensors(config, naming))
        {
            var sources = t.Sources.Select(s => input.Get(stored[s])).ToList();
            used.UnionWith(sources.Select(s => s.Name));
            var first = sources[0];
            if (sources.Any(s => !s.DType.IsFloatingPoint() || s.DType is DType.Float8E4M3 or DType.Float8E5M2 or DType.Float64 || s.DType != first.DType))
                throw new QuantizationException($"{input.Path}: tensor '{first.Name}' is {first.DType.SafetensorsName()}; " +
                    "only an unquantized F32, BF16 or F16 checkpoint can be quantized");
            long rows = sources.Sum(s => s.Shape[0]);
            long[] shape = first.Shape.Length == 2 ? [rows, first.Shape[1]] : first.Shape;
            string layer = t.Name[..t.Name.LastIndexOf('.')];
            if (!quantized.Contains(layer) || !t.Name.EndsWith(".weight", StringComparison.Ordinal))
            {
                var bytes = Concat(sources.Select(s => s.ToByteArray()));
                if (t.SwapHalves) bytes = SwapRowHalves(bytes, t.Name);
                writer.Add(t.Name, first.DType, shape, bytes);
                continue;
            }
            var values = Concat(sources.Select(s => s.ToFloat32Array()));
            int n = checked((int)rows), k = checked((int)first.Shape[1]);
            if (format == QuantizedCheckpointFormat.Nvfp4)
            {
                var q = Nvfp4Quantizer.Quantize(values, n, k, t.Name);
                writer.Add(t.Name, DType.UInt8, [n, k / 2], q.Weight);
                writer.Add(layer + ".weight_scale", DType.Float8E4M3, [n, k / Nvfp4Quantizer.BlockSize], q.Scales);
                writer.AddFloat32(layer + ".weight_scale_2", [], [q.WeightScale2]);
            }
            else
            {
                var q = Fp8Quantizer.Quantize(values, t.Name);
                writer.Add(t.Name, DType.Float8E4M3, [n, k], q.Weight);
                writer.AddFloat32(layer + ".weight_scale", [], [q.WeightScale]);
            }
        }
        var extra = input.Names.FirstOrDefault(n => !used.Contains(n));
        if (extra != null)
            throw new QuantizationException($"{input.Path}: tensor '{extra}' is not part of a FLUX.2 transformer with this configuration; refusing to drop it");

        var layers = QuantizedLayers(format, config);
        writer.Metadata[QuantizationMetadata.Key] = QuantizationMetadata.Build(layers.Select(l => KeyValuePair.Create(l, formatName)));
        writer.Write(outputPath);
        return new QuantizeSummary(used.Count, layers, input.TotalBytes, new FileInfo(outputPath).Length);
    }

    /// <summary>One tensor of the BFL layout and the checkpoint tensors (in the input's naming) whose rows it concatenates.</summary>
    private sealed record BflTensor(string Name, IReadOnlyList<string> Sources, bool SwapHalves = false);

    private static IEnumerable<BflTensor> BflTensors(Flux2Config config, TensorNaming naming)
    {
        var bfl = Flux2TensorNames.Bfl;
        var src = Flux2TensorNames.For(naming);
        yield return new(bfl.ImgIn, [src.ImgIn]);
        yield return new(bfl.TxtIn, [src.TxtIn]);
        yield return new(bfl.TimeLinear1, [src.TimeLinear1]);
        yield return new(bfl.TimeLinear2, [src.TimeLinear2]);
        if (config.GuidanceEmbeds)
        {
            yield return new(bfl.GuidanceLinear1, [src.GuidanceLinear1]);
            yield return new(bfl.GuidanceLinear2, [src.GuidanceLinear2]);
        }
        yield return new(bfl.ModDoubleImg, [src.ModDoubleImg]);
        yield return new(bfl.ModDoubleTxt, [src.ModDoubleTxt]);
        yield return new(bfl.ModSingle, [src.ModSingle]);
        // diffusers stores the final modulation as [scale | shift], BFL as [shift | scale] (spec §4.6).
        yield return new(bfl.FinalModulation, [src.FinalModulation], SwapHalves: bfl.FinalModulationShiftFirst != src.FinalModulationShiftFirst);
        yield return new(bfl.ProjOut, [src.ProjOut]);
        for (int i = 0; i < config.NumLayers; i++)
        {
            foreach (var (b, s) in new[] { (bfl.DoubleImg(i), src.DoubleImg(i)), (bfl.DoubleTxt(i), src.DoubleTxt(i)) })
            {
                yield return new(b.Qkv[0], s.Qkv);
                yield return new(b.NormQ, [s.NormQ]);
                yield return new(b.NormK, [s.NormK]);
                yield return new(b.Out, [s.Out]);
                yield return new(b.MlpIn, [s.MlpIn]);
                yield return new(b.MlpOut, [s.MlpOut]);
            }
        }
        for (int j = 0; j < config.NumSingleLayers; j++)
        {
            var (b, s) = (bfl.Single(j), src.Single(j));
            yield return new(b.Linear1, [s.Linear1]);
            yield return new(b.Linear2, [s.Linear2]);
            yield return new(b.NormQ, [s.NormQ]);
            yield return new(b.NormK, [s.NormK]);
        }
    }

    private static T[] Concat<T>(IEnumerable<T[]> parts)
    {
        var list = parts.ToList();
        if (list.Count == 1) return list[0];
        var result = new T[list.Sum(p => (long)p.Length)];
        long offset = 0;
        foreach (var p in list)
        {
            p.CopyTo(result, offset);
            offset += p.Length;
        }
        return result;
    }

    private static byte[] SwapRowHalves(byte[] bytes, string name)
    {
        if (bytes.Length % 2 != 0) throw new QuantizationException($"tensor '{name}' cannot be split into two halves");
        int half = bytes.Length / 2;
        var swapped = new byte[bytes.Length];
        bytes.AsSpan(half).CopyTo(swapped);
        bytes.AsSpan(0, half).CopyTo(swapped.AsSpan(half));
        return swapped;
    }
}
