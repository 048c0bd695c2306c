using Flux2.Models.Vae;

namespace Flux2.Cli.Debug;

/// <summary><c>debug forward vae-decode</c>: inputs.decoder_latents_packed [B, L, 4·latent] (normalised tokens) and
/// inputs.decoder_latent_ids [B, L, 4] → outputs.decoded [B, 3, H, W], outputs.image_float [B, H, W, 3] and
/// outputs.image_uint8 [B, H, W, 3].</summary>
public sealed class VaeDecodeForward : IForwardComponent
{
    public string Name => "vae-decode";

    public string Usage => "--weights FILE|DIR [--config config.json]";

    public void Run(CommandArgs args, ComputeOptions compute, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        using var backend = compute.CreateBackend();
        using var vae = VaeEncodeForward.LoadModel(args, backend, log);
        using var packed = inputs.Float32("inputs.decoder_latents_packed", 3, backend);
        using var unpacked = VaeLatents.UnpackWithIds(backend, packed, inputs.Int64Values("inputs.decoder_latent_ids", 3), inputs.Shape("inputs.decoder_latent_ids"));
        using var patchified = vae.Statistics.Denormalize(unpacked);
        using var latents = VaeLatents.Unpatchify(backend, patchified);
        using var decoded = vae.Decode(latents);
        outputs.Add("outputs.decoded", decoded, backend);
        using var unit = VaeImages.ToUnitFloat(backend, decoded);
        outputs.Add("outputs.image_float", unit, backend);
        using var rgb = VaeImages.ToRgb(backend, decoded);
        outputs.Add("outputs.image_uint8", rgb, backend);
    }
}
