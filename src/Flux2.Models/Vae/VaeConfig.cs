using System.Text.Json;
using Flux2.Core.Checkpoints;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.Vae;

/// <summary>
/// The <c>AutoencoderKLFlux2</c> configuration (spec §6.1): the fields of a diffusers vae/config.json that shape
/// the network. Defaults are the published FLUX.2 VAE. Options FLUX.2 never changes (quant convs, mid-block
/// attention, SiLU, 2×2 patches) are checked rather than stored.
/// </summary>
public sealed record VaeConfig
{
    public int InChannels { get; init; } = 3;
    public int OutChannels { get; init; } = 3;
    public IReadOnlyList<int> BlockOutChannels { get; init; } = [128, 256, 512, 512];
    public int LayersPerBlock { get; init; } = 2;
    public int LatentChannels { get; init; } = 32;
    public int NormNumGroups { get; init; } = 32;
    public double BatchNormEps { get; init; } = 1e-4;

    /// <summary>GroupNorm epsilon of every norm layer (fixed in diffusers' Encoder/Decoder).</summary>
    public const float GroupNormEps = 1e-6f;
    /// <summary>Side of the latent patches folded into channels before the transformer.</summary>
    public const int PatchSize = 2;

    public int Levels => BlockOutChannels.Count;
    /// <summary>Pixels per latent pixel: 2 per downsampling level.</summary>
    public int SpatialScale => 1 << (Levels - 1);
    /// <summary>Channels of the patchified latent (and of the BatchNorm statistics): 4·latent channels.</summary>
    public int PatchedChannels => LatentChannels * PatchSize * PatchSize;

    /// <summary>Reads a diffusers vae/config.json.</summary>
    public static VaeConfig FromJsonFile(string path)
    {
        using var doc = JsonText.ReadFile(path, (problem, _) => new VaeException($"{path}: {problem}"));
        return FromJson(doc.RootElement, path);
    }

    public static VaeConfig FromJson(JsonElement json, string source)
    {
        if (json.ValueKind != JsonValueKind.Object) throw new VaeException($"{source}: a VAE config must be a JSON object");
        var reader = new JsonConfigReader(problem => new VaeException($"{source}: {problem}"));
        var c = new VaeConfig();
        foreach (var p in json.EnumerateObject())
        {
            var v = p.Value;
            c = p.Name switch
            {
                "in_channels" => c with { InChannels = reader.Int(p.Name, v) },
                "out_channels" => c with { OutChannels = reader.Int(p.Name, v) },
                "block_out_channels" => c with { BlockOutChannels = reader.IntList(p.Name, v) },
                "layers_per_block" => c with { LayersPerBlock = reader.Int(p.Name, v) },
                "latent_channels" => c with { LatentChannels = reader.Int(p.Name, v) },
                "norm_num_groups" => c with { NormNumGroups = reader.Int(p.Name, v) },
                "batch_norm_eps" => c with { BatchNormEps = reader.Number(p.Name, v) },
                _ => c,
            };
            switch (p.Name)
            {
                case "use_quant_conv" or "use_post_quant_conv" or "mid_block_add_attention":
                    if (v.ValueKind != JsonValueKind.True)
                        throw new VaeException($"{source}: '{p.Name}' is {v.GetRawText()}; the FLUX.2 VAE needs true");
                    break;
                case "act_fn":
                    if (v.ValueKind != JsonValueKind.String || v.GetString() != "silu")
                        throw new VaeException($"{source}: 'act_fn' is {v.GetRawText()}; the FLUX.2 VAE uses \"silu\"");
                    break;
                case "patch_size":
                    if (reader.IntList(p.Name, v) is not [PatchSize, PatchSize])
                        throw new VaeException($"{source}: 'patch_size' is {v.GetRawText()}; only [2, 2] is supported");
                    break;
            }
        }
        c.Validate(source);
        return c;
    }

    /// <summary>Refuses a config with more levels or resnets per level than the checkpoint's encoder holds, before anything
    /// sized by them is built (<c>"layers_per_block": 1000000000</c> must fail at once, not allocate).</summary>
    public void CheckAgainst(SafeTensorsCheckpoint checkpoint, VaeNaming naming, string source)
    {
        var names = new VaeTensorNames(naming, Levels);
        int levels = 0, layers = 0;
        while (checkpoint.Contains(names.EncoderResnet(levels, 0) + ".conv1.weight")) levels++;
        while (checkpoint.Contains(names.EncoderResnet(0, layers) + ".conv1.weight")) layers++;
        if (Levels > levels || LayersPerBlock > layers)
            throw new VaeException($"{source}: {Levels} levels of layers_per_block {LayersPerBlock}, but the checkpoint's encoder holds " +
                $"{levels} levels of {layers} resnets");
    }

    /// <summary>Checks the sizes are positive and every channel count splits into the norm groups.</summary>
    public void Validate(string source)
    {
        if (InChannels < 1 || OutChannels < 1 || LatentChannels < 1 || LayersPerBlock < 1 || NormNumGroups < 1)
            throw new VaeException($"{source}: channel counts, layers_per_block and norm_num_groups must be positive");
        if (BlockOutChannels.Count < 1 || BlockOutChannels.Count > 8)
            throw new VaeException($"{source}: 'block_out_channels' needs 1 to 8 levels, found {BlockOutChannels.Count}");
        foreach (var ch in BlockOutChannels)
            if (ch < 1 || ch % NormNumGroups != 0)
                throw new VaeException($"{source}: block_out_channels entry {ch} is not a positive multiple of norm_num_groups {NormNumGroups}");
        if (!(BatchNormEps > 0)) throw new VaeException($"{source}: 'batch_norm_eps' must be positive, found {BatchNormEps}");
    }
}
