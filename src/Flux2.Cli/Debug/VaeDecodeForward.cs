using Flux2.Models.Vae;

namespace Flux2.Cli.Debug;

/// <summary><c>debug forward vae-decode</c>: inputs.decoder_latents_packed [B, L, 4·latent] (normalised tokens) and
/// inputs.decoder_latent_ids [B, L, 4] → outputs.decoded [B, 3, H, W], outputs.image_float [B, H, W, 3] and
/// outputs.image_uint8 [B, H, W, 3].</summary>
public sealed class VaeDecodeForward : IForwardComponent
{
    public string Name => "vae-decode";

    public string Usage => "--weights FILE|DIR [--config config.json]";

    public void Run(CommandArgs args, IoFile inputs, IoWriter outputs, TextWriter log)
    {
        using var vae = VaeEncodeForward.LoadModel(args, log);
        using var packed = inputs.Float32("inputs.decoder_latents_packed", 3);
        using var ids = inputs.Int64("inputs.decoder_latent_ids", 3);
        using var unpacked = VaeLatents.UnpackWithIds(packed, ids);
        using var patchified = vae.Statistics.Denormalize(unpacked);
        using var latents = VaeLatents.Unpatchify(patchified);
        using var decoded = vae.Decode(latents);
        outputs.Add("outputs.decoded", decoded);
        using var unit = VaeImages.ToUnitFloat(decoded);
        outputs.Add("outputs.image_float", unit);
        using var rgb = VaeImages.ToRgb(decoded);
        outputs.Add("outputs.image_uint8", rgb);
    }
}
