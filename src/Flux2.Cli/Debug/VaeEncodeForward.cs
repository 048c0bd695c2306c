using Flux2.Core.Backend;
using Flux2.Models.Vae;

namespace Flux2.Cli.Debug;

/// <summary><c>debug forward vae-encode</c>: inputs.image [B, 3, H, W] in [−1, 1] → outputs.encoder_moments,
/// latent_mean, latent_patchified, latent_normalized and latent_packed (what a reference image adds to the DiT input).</summary>
public sealed class VaeEncodeForward : IForwardComponent
{
    public string Name => "vae-encode";

    public string Usage => "--weights FILE|DIR [--config config.json]";

    public void Run(CommandArgs args, ComputeOptions compute, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        using var backend = compute.CreateBackend();
        using var vae = LoadModel(args, backend, log);
        using var image = inputs.Float32("inputs.image", 4, backend);
        using var moments = vae.EncodeMoments(image);
        outputs.Add("outputs.encoder_moments", moments, backend);
        using var mean = vae.MeanOf(moments);
        outputs.Add("outputs.latent_mean", mean, backend);
        using var patchified = VaeLatents.Patchify(backend, mean);
        outputs.Add("outputs.latent_patchified", patchified, backend);
        using var normalized = vae.Statistics.Normalize(patchified);
        outputs.Add("outputs.latent_normalized", normalized, backend);
        using var packed = VaeLatents.Pack(backend, normalized);
        outputs.Add("outputs.latent_packed", packed, backend);
    }

    /// <summary>Reads --weights/--config (shared by both VAE components), loads the VAE and describes it.</summary>
    internal static AutoencoderKLFlux2 LoadModel(CommandArgs args, IBackend backend, TextWriter log)
    {
        var weightsPath = args.Required("weights");
        var configPath = args.Optional("config");
        args.EnsureAllUsed(0);
        if (!File.Exists(weightsPath) && !Directory.Exists(weightsPath)) throw new CliException($"--weights: not found: {weightsPath}");
        if (configPath != null && !File.Exists(configPath)) throw new CliException($"--config: file not found: {configPath}");
        var vae = AutoencoderKLFlux2.Load(weightsPath, backend, configPath);
        var c = vae.Config;
        log.WriteLine($"vae ({vae.Naming} names): block_out_channels [{string.Join(", ", c.BlockOutChannels)}], " +
            $"layers_per_block {c.LayersPerBlock}, latent channels {c.LatentChannels}");
        return vae;
    }
}
