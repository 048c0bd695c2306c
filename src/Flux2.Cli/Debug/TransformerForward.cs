using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Cli.Debug;

/// <summary><c>debug forward transformer</c>: inputs.hidden_states, encoder_hidden_states, timestep, guidance (optional),
/// img_ids, txt_ids → outputs.sample [B, L, 128] (all positions, reference tokens included); with --trace also every
/// intermediate as trace.* under the golden files' names (temb, modulations, RoPE tables, each block's streams, ...).</summary>
public sealed class TransformerForward : IForwardComponent
{
    public string Name => "transformer";

    public string Usage => "--weights FILE|DIR [--config config.json] [--trace]";

    public void Run(CommandArgs args, ComputeOptions compute, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        var weightsPath = args.Required("weights");
        var configPath = args.Optional("config");
        bool trace = args.Flag("trace");
        args.EnsureAllUsed(0);
        if (configPath != null && !File.Exists(configPath)) throw new CliException($"--config: file not found: {configPath}");

        using var backend = compute.CreateBackend();
        using var hidden = inputs.Float32("inputs.hidden_states", 3, backend);
        using var encoder = inputs.Float32("inputs.encoder_hidden_states", 3, backend);
        using var timestep = inputs.Float32("inputs.timestep", 1, backend);
        using var guidance = inputs.Contains("inputs.guidance") ? inputs.Float32("inputs.guidance", 1, backend) : null;
        var imgIdsRank = inputs.Get("inputs.img_ids").Shape.Length;
        var txtIdsRank = inputs.Get("inputs.txt_ids").Shape.Length;
        using var imgIds = inputs.Int64("inputs.img_ids", imgIdsRank, backend);
        using var txtIds = inputs.Int64("inputs.txt_ids", txtIdsRank, backend);

        using var model = Flux2Transformer.Load(weightsPath, backend, configPath);
        var c = model.Config;
        log.WriteLine($"transformer ({model.Naming} names): {c.NumLayers} double + {c.NumSingleLayers} single blocks, " +
            $"{c.NumAttentionHeads} heads x {c.AttentionHeadDim}, guidance embedder {(c.GuidanceEmbeds ? "yes" : "no")}");
        // The writer copies each tensor when it is added, so reused activation buffers can be traced directly.
        if (trace) model.Trace = (name, tensor) => AddTrace(outputs, name, backend.DownloadFloat32(tensor), tensor.Shape);
        using var sample = model.Forward(hidden, encoder, timestep, guidance, imgIds, txtIds);
        outputs.Add("outputs.sample", sample, backend);
    }

    /// <summary>The model keeps one RoPE angle per interleaved pair ([L, head_dim/2]); the golden files store both
    /// entries of each pair ([L, head_dim]), so those two traces are widened to that layout.</summary>
    private static void AddTrace(IoWriter outputs, string name, float[] values, int[] shape)
    {
        if (name is not ("rope_cos" or "rope_sin"))
        {
            using var host = Tensor.FromArray(values, shape);
            outputs.Add("trace." + name, host);
            return;
        }
        int rows = shape[0], pairs = shape[1];
        var compact = values;
        var widened = new float[rows * pairs * 2];
        for (int i = 0; i < compact.Length; i++) widened[2 * i] = widened[2 * i + 1] = compact[i];
        using var golden = Tensor.FromArray(widened, rows, pairs * 2);
        outputs.Add("trace." + name, golden);
    }
}
