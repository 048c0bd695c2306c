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
/// calibration data and are not written; the loader does not use them. The output is streamed: tensors are copied
/// from the mapped input and quantized one layer at a time while the file is written, so memory stays about one layer.
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
                if (t.SwapHalves && first.ByteLength % 2 != 0) throw new QuantizationException($"tensor '{t.Name}' cannot be split into two halves");
                writer.AddDeferred(t.Name, first.DType, shape, stream => CopyBytes(sources, t.SwapHalves, stream));
                continue;
            }
            int n = checked((int)rows), k = checked((int)first.Shape[1]);
            // Each layer is quantized when the writer reaches its weight and dropped after its last tensor, so only
            // one layer's values are in memory at a time.
            if (format == QuantizedCheckpointFormat.Nvfp4)
            {
                Nvfp4Quantizer.CheckColumns(k, t.Name);
                var q = new OnDemand<Nvfp4Quantized>(() => Nvfp4Quantizer.Quantize(Float32Rows(sources), n, k, t.Name));
                writer.AddDeferred(t.Name, DType.UInt8, [n, k / 2], stream => stream.Write(q.Get().Weight));
                writer.AddDeferred(layer + ".weight_scale", DType.Float8E4M3, [n, k / Nvfp4Quantizer.BlockSize], stream => stream.Write(q.Get().Scales));
                writer.AddDeferred(layer + ".weight_scale_2", DType.Float32, [], stream => WriteFloat32(stream, q.Release().WeightScale2));
            }
            else
            {
                var q = new OnDemand<Fp8Quantized>(() => Fp8Quantizer.Quantize(Float32Rows(sources), t.Name));
                writer.AddDeferred(t.Name, DType.Float8E4M3, [n, k], stream => stream.Write(q.Get().Weight));
                writer.AddDeferred(layer + ".weight_scale", DType.Float32, [], stream => WriteFloat32(stream, q.Release().WeightScale));
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

    /// <summary>A layer's quantization, computed on first use and released after its last tensor is written.</summary>
    private sealed class OnDemand<T>(Func<T> compute) where T : class
    {
        private T? _value;

        public T Get() => _value ??= compute();

        public T Release()
        {
            var value = Get();
            _value = null;
            return value;
        }
    }

    /// <summary>The sources' rows one after another, widened to fp32.</summary>
    private static float[] Float32Rows(IReadOnlyList<TensorView> sources)
    {
        if (sources.Count == 1) return sources[0].ToFloat32Array();
        var result = new float[sources.Sum(s => s.ElementCount)];
        long offset = 0;
        foreach (var s in sources)
        {
            var part = s.ToFloat32Array();
            part.CopyTo(result, offset);
            offset += part.Length;
        }
        return result;
    }

    /// <summary>The sources' stored bytes one after another, straight from the mapped input; with <paramref name="swapHalves"/>
    /// the second half of the (single) source first.</summary>
    private static void CopyBytes(IReadOnlyList<TensorView> sources, bool swapHalves, Stream stream)
    {
        if (!swapHalves)
        {
            foreach (var s in sources) stream.Write(s.AsSpan<byte>());
            return;
        }
        var bytes = sources[0].AsSpan<byte>();
        stream.Write(bytes[(bytes.Length / 2)..]);
        stream.Write(bytes[..(bytes.Length / 2)]);
    }

    private static void WriteFloat32(Stream stream, float value)
    {
        Span<byte> bytes = stackalloc byte[sizeof(float)];
        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        stream.Write(bytes);
    }
}
