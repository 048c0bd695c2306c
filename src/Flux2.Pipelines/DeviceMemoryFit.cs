using Flux2.Core.Backend;
using Flux2.Models;
using Flux2.Models.Quantization;
using Flux2.Models.TextEncoders;
using Flux2.Models.Transformer;
using Flux2.Models.Vae;

namespace Flux2.Pipelines;

/// <summary>The resident weights of one published FLUX.2 model on a GPU, in bytes: the transformer, the text encoder up to
/// the last layer FLUX.2 reads (its early exit), and the VAE.</summary>
public sealed record ModelFootprint(string Model, long Transformer, long TextEncoder, long Vae)
{
    public long Total => Transformer + TextEncoder + Vae;
}

/// <summary>
/// What fits on a GPU (<c>flux2 info --device cuda</c>): the published models' weights counted from their tensor lists at the
/// sizes the CUDA backend keeps them (bf16 in the fast mode, NVFP4 expanded to bf16 at load; fp32 in the exact mode), and
/// in the fast mode also their FP8 checkpoints, whose quantized Linears stay one byte per weight on sm_89 and later; plus a
/// reserve for the activations of a 1024² generation. <c>flux2 serve</c> keeps the three models resident;
/// <c>flux2 generate</c> on a GPU holds the VAE and the text encoder, then (the encoder released) the VAE and the
/// transformer (<see cref="PipelineOptions.LoadTransformerAfterEncoding"/>); with the text encoder on the CPU
/// (<see cref="Config.PipelineConfig.TextEncoderDevice"/>) both hold only the transformer and the VAE.
/// </summary>
public static class DeviceMemoryFit
{
    /// <summary>Kept free for activations, cuBLASLt's workspace and the allocator's rounding (a 1024² step or decode needs
    /// well under 2 GiB in bf16).</summary>
    public const long ActivationReserve = 4L << 30;

    /// <summary>klein-4B (Qwen3-4B), klein-9B (Qwen3-8B) and dev (Mistral-Small-3.x) at the precision's bytes per weight; in
    /// bf16 also each with its FP8 transformer (the published FP8 layer set, <see cref="Flux2CheckpointQuantizer.QuantizedLayers"/>).</summary>
    public static IReadOnlyList<ModelFootprint> Published(ComputePrecision precision)
    {
        long bytes = BytesPerWeight(precision);
        long vae = Elements(new VaeTensorNames(VaeNaming.Diffusers, new VaeConfig().Levels).ExpectedTensors(new VaeConfig()).Select(t => t.Shape)) * bytes;
        (string Name, Flux2Config Transformer, TextEncoderConfig Encoder)[] models =
        [
            ("FLUX.2-klein-4B", Flux2Config.Klein4B(), TextEncoderConfig.Qwen3_4B()),
            ("FLUX.2-klein-9B", Flux2Config.Klein9B(), TextEncoderConfig.Qwen3_8B()),
            ("FLUX.2-dev", Flux2Config.Dev(), TextEncoderConfig.MistralSmall3()),
        ];
        var footprints = new List<ModelFootprint>();
        foreach (bool fp8 in precision == ComputePrecision.BFloat16 ? new[] { false, true } : [false])
            foreach (var (name, transformer, encoder) in models)
                footprints.Add(new(fp8 ? name + " FP8 (sm_89+)" : name,
                    fp8 ? Fp8TransformerBytes(transformer) : Elements(Flux2WeightMap.ExpectedTensors(transformer, TensorNaming.Diffusers).Select(t => t.Shape)) * bytes,
                    TextEncoderBytes(encoder, precision),
                    vae));
        return footprints;
    }

    /// <summary>A transformer from an FP8 checkpoint on a GPU that keeps FP8: one byte per weight of the quantized Linears,
    /// bf16 for the rest.</summary>
    private static long Fp8TransformerBytes(Flux2Config config)
    {
        var quantized = Flux2CheckpointQuantizer.QuantizedLayers(QuantizedCheckpointFormat.Fp8, config).ToHashSet(StringComparer.Ordinal);
        return Flux2WeightMap.ExpectedTensors(config, TensorNaming.Bfl).Sum(t =>
        {
            long elements = t.Shape.Aggregate(1L, (a, d) => a * d);
            bool fp8 = t.Name.EndsWith(".weight", StringComparison.Ordinal) && quantized.Contains(t.Name[..^".weight".Length]);
            return fp8 ? elements : 2 * elements;
        });
    }

    /// <summary>A text encoder's weights up to the last layer FLUX.2 reads (its early exit), at the precision's bytes per weight.</summary>
    public static long TextEncoderBytes(TextEncoderConfig encoder, ComputePrecision precision) =>
        Elements(TextEncoderWeights.ExpectedTensors(encoder, encoder.FluxHiddenStateLayers[^1]).Select(t => t.Shape)) * BytesPerWeight(precision);

    /// <summary>Whether <paramref name="bytes"/> more fit in what a device has free (its free memory and the allocator's cache)
    /// with <see cref="ActivationReserve"/> left.</summary>
    public static bool FitsBeside(long bytes, DeviceMemoryUse memory) => bytes + ActivationReserve <= memory.DeviceFree + memory.Cached;

    /// <summary>Whether the three models fit together (what the server keeps).</summary>
    public static bool FitsResident(ModelFootprint model, long freeBytes) => model.Total + ActivationReserve <= freeBytes;

    /// <summary>Whether the VAE with the text encoder, then with the transformer, fits (what generate holds).</summary>
    public static bool FitsOneAfterTheOther(ModelFootprint model, long freeBytes) =>
        model.Vae + Math.Max(model.TextEncoder, model.Transformer) + ActivationReserve <= freeBytes;

    /// <summary>Whether the transformer and the VAE fit with the text encoder on another device (the CPU).</summary>
    public static bool FitsWithoutTheTextEncoder(ModelFootprint model, long freeBytes) =>
        model.Transformer + model.Vae + ActivationReserve <= freeBytes;

    /// <summary>One line per published model: its weights and how they fit <paramref name="freeBytes"/>.</summary>
    public static IEnumerable<string> Describe(long freeBytes, ComputePrecision precision) =>
        Published(precision).Select(m => $"{m.Model}: {Gb(m.Transformer)} transformer + {Gb(m.TextEncoder)} text encoder + {Gb(m.Vae)} VAE: " +
            (FitsResident(m, freeBytes) ? "fits all resident (serve, generate)"
                : FitsOneAfterTheOther(m, freeBytes) ? "fits generate (encoder released before the transformer loads); serve runs the text encoder on the CPU"
                : FitsWithoutTheTextEncoder(m, freeBytes) ? "fits with the text encoder on the CPU (generate and serve put it there)"
                : "does not fit"));

    private static long BytesPerWeight(ComputePrecision precision) => precision == ComputePrecision.BFloat16 ? 2 : 4;

    private static long Elements(IEnumerable<long[]> shapes) => shapes.Sum(s => s.Aggregate(1L, (a, d) => a * d));

    internal static string Gb(long bytes) => $"{bytes / 1e9:F1} GB";
}
