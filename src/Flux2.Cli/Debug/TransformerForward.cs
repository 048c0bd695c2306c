using Flux2.Cpu;
using Flux2.Models.Transformer;

namespace Flux2.Cli.Debug;

/// <summary><c>debug forward transformer</c>: inputs.hidden_states, encoder_hidden_states, timestep, guidance (optional),
/// img_ids, txt_ids → outputs.sample [B, L, 128] (all positions, reference tokens included).</summary>
public sealed class TransformerForward : IForwardComponent
{
    public string Name => "transformer";

    public string Usage => "--weights FILE|DIR [--config config.json]";

    public void Run(CommandArgs args, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        var weightsPath = args.Required("weights");
        var configPath = args.Optional("config");
        args.EnsureAllUsed(0);
        if (configPath != null && !File.Exists(configPath)) throw new CliException($"--config: file not found: {configPath}");

        using var hidden = inputs.Float32("inputs.hidden_states", 3);
        using var encoder = inputs.Float32("inputs.encoder_hidden_states", 3);
        using var timestep = inputs.Float32("inputs.timestep", 1);
        using var guidance = inputs.Contains("inputs.guidance") ? inputs.Float32("inputs.guidance", 1) : null;
        var imgIdsRank = inputs.Get("inputs.img_ids").Shape.Length;
        var txtIdsRank = inputs.Get("inputs.txt_ids").Shape.Length;
        using var imgIds = inputs.Int64("inputs.img_ids", imgIdsRank);
        using var txtIds = inputs.Int64("inputs.txt_ids", txtIdsRank);

        using var model = Flux2Transformer.Load(weightsPath, new CpuBackend(), configPath);
        var c = model.Config;
        log.WriteLine($"transformer ({model.Naming} names): {c.NumLayers} double + {c.NumSingleLayers} single blocks, " +
            $"{c.NumAttentionHeads} heads x {c.AttentionHeadDim}, guidance embedder {(c.GuidanceEmbeds ? "yes" : "no")}");
        using var sample = model.Forward(hidden, encoder, timestep, guidance, imgIds, txtIds);
        outputs.Add("outputs.sample", sample);
    }
}
