using Flux2.Core.SafeTensors;

namespace Flux2.Models.Vae;

/// <summary>The two tensor naming schemes of FLUX.2 VAE checkpoints (spec §6.2).</summary>
public enum VaeNaming
{
    /// <summary>diffusers <c>vae/diffusion_pytorch_model.safetensors</c>.</summary>
    Diffusers,
    /// <summary>BFL <c>ae.safetensors</c>.</summary>
    Bfl,
}

/// <summary>A tensor a VAE checkpoint holds, with its stored shape.</summary>
public sealed record VaeTensor(string Name, long[] Shape);

/// <summary>
/// The VAE's module names in one naming scheme (spec §6.2): diffusers <c>up_blocks.k</c> is BFL
/// <c>up.{levels−1−k}</c> (decoder levels are numbered here in processing order, as diffusers does); attention
/// projections are Linear [C, C] (diffusers) or 1×1 convs [C, C, 1, 1] (BFL); <c>quant_conv</c>/<c>post_quant_conv</c>
/// sit at the top level (diffusers) or under <c>encoder.</c>/<c>decoder.</c> (BFL); the resnet shortcut is
/// <c>conv_shortcut</c> or <c>nin_shortcut</c>. "part" is "encoder" or "decoder".
/// </summary>
public sealed record VaeTensorNames(VaeNaming Naming, int Levels)
{
    private const string DiffusersMarker = "encoder.down_blocks.0.resnets.0.conv1.weight";
    private const string BflMarker = "encoder.down.0.block.0.conv1.weight";

    public static VaeNaming DetectNaming(SafeTensorsCheckpoint checkpoint) =>
        checkpoint.Contains(DiffusersMarker) ? VaeNaming.Diffusers
        : checkpoint.Contains(BflMarker) ? VaeNaming.Bfl
        : throw new VaeException($"{checkpoint.Path}: not a FLUX.2 VAE checkpoint: it has neither '{DiffusersMarker}' (diffusers) " +
            $"nor '{BflMarker}' (BFL ae.safetensors)");

    private bool Diffusers => Naming == VaeNaming.Diffusers;

    public string EncoderResnet(int level, int j) => Diffusers ? $"encoder.down_blocks.{level}.resnets.{j}" : $"encoder.down.{level}.block.{j}";
    public string Downsample(int level) => Diffusers ? $"encoder.down_blocks.{level}.downsamplers.0.conv" : $"encoder.down.{level}.downsample.conv";
    public string DecoderResnet(int level, int j) => Diffusers ? $"decoder.up_blocks.{level}.resnets.{j}" : $"decoder.up.{Levels - 1 - level}.block.{j}";
    public string Upsample(int level) => Diffusers ? $"decoder.up_blocks.{level}.upsamplers.0.conv" : $"decoder.up.{Levels - 1 - level}.upsample.conv";
    public string MidResnet(string part, int r) => Diffusers ? $"{part}.mid_block.resnets.{r}" : $"{part}.mid.block_{r + 1}";
    public string MidAttention(string part) => Diffusers ? $"{part}.mid_block.attentions.0" : $"{part}.mid.attn_1";
    public string AttentionNorm(string attention) => attention + (Diffusers ? ".group_norm" : ".norm");
    public string AttentionQuery(string attention) => attention + (Diffusers ? ".to_q" : ".q");
    public string AttentionKey(string attention) => attention + (Diffusers ? ".to_k" : ".k");
    public string AttentionValue(string attention) => attention + (Diffusers ? ".to_v" : ".v");
    public string AttentionOut(string attention) => attention + (Diffusers ? ".to_out.0" : ".proj_out");
    public string Shortcut(string resnet) => resnet + (Diffusers ? ".conv_shortcut" : ".nin_shortcut");
    public string NormOut(string part) => Diffusers ? $"{part}.conv_norm_out" : $"{part}.norm_out";
    public string QuantConv => Diffusers ? "quant_conv" : "encoder.quant_conv";
    public string PostQuantConv => Diffusers ? "post_quant_conv" : "decoder.post_quant_conv";

    /// <summary>Whether attention projections are stored as 1×1 convs [C, C, 1, 1] rather than Linear [C, C].</summary>
    public bool ProjectionsAsConvs => !Diffusers;

    /// <summary>Every tensor of a VAE with <paramref name="config"/>, encoder first, then the decoder and the statistics.</summary>
    public IReadOnlyList<VaeTensor> ExpectedTensors(VaeConfig config)
    {
        var list = new List<VaeTensor>();
        var ch = config.BlockOutChannels;
        int top = ch[^1], z = config.LatentChannels;
        void Conv(string name, int cout, int cin, int k)
        {
            list.Add(new(name + ".weight", [cout, cin, k, k]));
            list.Add(new(name + ".bias", [cout]));
        }
        void Norm(string name, int c)
        {
            list.Add(new(name + ".weight", [c]));
            list.Add(new(name + ".bias", [c]));
        }
        void Resnet(string name, int cin, int cout)
        {
            Norm(name + ".norm1", cin);
            Conv(name + ".conv1", cout, cin, 3);
            Norm(name + ".norm2", cout);
            Conv(name + ".conv2", cout, cout, 3);
            if (cin != cout) Conv(Shortcut(name), cout, cin, 1);
        }
        void Mid(string part)
        {
            Resnet(MidResnet(part, 0), top, top);
            var attention = MidAttention(part);
            Norm(AttentionNorm(attention), top);
            foreach (var projection in new[] { AttentionQuery(attention), AttentionKey(attention), AttentionValue(attention), AttentionOut(attention) })
            {
                list.Add(new(projection + ".weight", ProjectionsAsConvs ? [top, top, 1, 1] : [top, top]));
                list.Add(new(projection + ".bias", [top]));
            }
            Resnet(MidResnet(part, 1), top, top);
        }

        Conv("encoder.conv_in", ch[0], config.InChannels, 3);
        for (int i = 0, cin = ch[0]; i < Levels; i++)
        {
            for (int j = 0; j < config.LayersPerBlock; j++, cin = ch[i]) Resnet(EncoderResnet(i, j), cin, ch[i]);
            if (i < Levels - 1) Conv(Downsample(i), ch[i], ch[i], 3);
        }
        Mid("encoder");
        Norm(NormOut("encoder"), top);
        Conv("encoder.conv_out", 2 * z, top, 3);
        Conv(QuantConv, 2 * z, 2 * z, 1);

        Conv(PostQuantConv, z, z, 1);
        Conv("decoder.conv_in", top, z, 3);
        Mid("decoder");
        for (int k = 0, cin = top; k < Levels; k++)
        {
            int cout = ch[Levels - 1 - k];
            for (int j = 0; j <= config.LayersPerBlock; j++, cin = cout) Resnet(DecoderResnet(k, j), cin, cout);
            if (k < Levels - 1) Conv(Upsample(k), cout, cout, 3);
        }
        Norm(NormOut("decoder"), ch[0]);
        Conv("decoder.conv_out", config.OutChannels, ch[0], 3);
        list.Add(new(VaeWeightMap.StatisticsMean, [config.PatchedChannels]));
        list.Add(new(VaeWeightMap.StatisticsVariance, [config.PatchedChannels]));
        return list;
    }
}
