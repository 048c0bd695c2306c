namespace Flux2.Models.Transformer;

/// <summary>The checkpoint names of one double-block stream's tensors (image or text side).</summary>
/// <param name="Qkv">one fused [3D, D] weight (BFL) or the three [D, D] weights q, k, v (diffusers), in column order</param>
public sealed record DoubleStreamNames(IReadOnlyList<string> Qkv, string NormQ, string NormK, string Out, string MlpIn, string MlpOut);

/// <summary>The checkpoint names of one single block's tensors.</summary>
public sealed record SingleBlockNames(string Linear1, string Linear2, string NormQ, string NormK);

/// <summary>
/// The tensor names of a FLUX.2 transformer checkpoint in one naming scheme (spec §4.5), without any
/// <c>model.diffusion_model.</c> / <c>transformer.</c> prefix.
/// </summary>
public sealed class Flux2TensorNames
{
    public static Flux2TensorNames Bfl { get; } = new(TensorNaming.Bfl);
    public static Flux2TensorNames Diffusers { get; } = new(TensorNaming.Diffusers);

    public static Flux2TensorNames For(TensorNaming naming) => naming == TensorNaming.Bfl ? Bfl : Diffusers;

    private Flux2TensorNames(TensorNaming naming)
    {
        Naming = naming;
        bool bfl = naming == TensorNaming.Bfl;
        ImgIn = bfl ? "img_in.weight" : "x_embedder.weight";
        TxtIn = bfl ? "txt_in.weight" : "context_embedder.weight";
        TimeLinear1 = bfl ? "time_in.in_layer.weight" : "time_guidance_embed.timestep_embedder.linear_1.weight";
        TimeLinear2 = bfl ? "time_in.out_layer.weight" : "time_guidance_embed.timestep_embedder.linear_2.weight";
        GuidanceLinear1 = bfl ? "guidance_in.in_layer.weight" : "time_guidance_embed.guidance_embedder.linear_1.weight";
        GuidanceLinear2 = bfl ? "guidance_in.out_layer.weight" : "time_guidance_embed.guidance_embedder.linear_2.weight";
        ModDoubleImg = bfl ? "double_stream_modulation_img.lin.weight" : "double_stream_modulation_img.linear.weight";
        ModDoubleTxt = bfl ? "double_stream_modulation_txt.lin.weight" : "double_stream_modulation_txt.linear.weight";
        ModSingle = bfl ? "single_stream_modulation.lin.weight" : "single_stream_modulation.linear.weight";
        FinalModulation = bfl ? "final_layer.adaLN_modulation.1.weight" : "norm_out.linear.weight";
        ProjOut = bfl ? "final_layer.linear.weight" : "proj_out.weight";
    }

    public TensorNaming Naming { get; }
    public string ImgIn { get; }
    public string TxtIn { get; }
    public string TimeLinear1 { get; }
    public string TimeLinear2 { get; }
    public string GuidanceLinear1 { get; }
    public string GuidanceLinear2 { get; }
    public string ModDoubleImg { get; }
    public string ModDoubleTxt { get; }
    public string ModSingle { get; }
    public string FinalModulation { get; }
    public string ProjOut { get; }

    /// <summary>BFL stores the final modulation rows as [shift | scale]; the diffusers converter swaps them to [scale | shift].</summary>
    public bool FinalModulationShiftFirst => Naming == TensorNaming.Bfl;

    /// <summary>The prefix every tensor of double block <paramref name="i"/> starts with.</summary>
    public string DoublePrefix(int i) => Naming == TensorNaming.Bfl ? $"double_blocks.{i}." : $"transformer_blocks.{i}.";

    /// <summary>The prefix every tensor of single block <paramref name="j"/> starts with.</summary>
    public string SinglePrefix(int j) => Naming == TensorNaming.Bfl ? $"single_blocks.{j}." : $"single_transformer_blocks.{j}.";

    public DoubleStreamNames DoubleImg(int i)
    {
        var p = DoublePrefix(i);
        return Naming == TensorNaming.Bfl
            ? new([p + "img_attn.qkv.weight"], p + "img_attn.norm.query_norm.scale", p + "img_attn.norm.key_norm.scale",
                p + "img_attn.proj.weight", p + "img_mlp.0.weight", p + "img_mlp.2.weight")
            : new([p + "attn.to_q.weight", p + "attn.to_k.weight", p + "attn.to_v.weight"], p + "attn.norm_q.weight", p + "attn.norm_k.weight",
                p + "attn.to_out.0.weight", p + "ff.linear_in.weight", p + "ff.linear_out.weight");
    }

    public DoubleStreamNames DoubleTxt(int i)
    {
        var p = DoublePrefix(i);
        return Naming == TensorNaming.Bfl
            ? new([p + "txt_attn.qkv.weight"], p + "txt_attn.norm.query_norm.scale", p + "txt_attn.norm.key_norm.scale",
                p + "txt_attn.proj.weight", p + "txt_mlp.0.weight", p + "txt_mlp.2.weight")
            : new([p + "attn.add_q_proj.weight", p + "attn.add_k_proj.weight", p + "attn.add_v_proj.weight"],
                p + "attn.norm_added_q.weight", p + "attn.norm_added_k.weight",
                p + "attn.to_add_out.weight", p + "ff_context.linear_in.weight", p + "ff_context.linear_out.weight");
    }

    public SingleBlockNames Single(int j)
    {
        var p = SinglePrefix(j);
        return Naming == TensorNaming.Bfl
            ? new(p + "linear1.weight", p + "linear2.weight", p + "norm.query_norm.scale", p + "norm.key_norm.scale")
            : new(p + "attn.to_qkv_mlp_proj.weight", p + "attn.to_out.weight", p + "attn.norm_q.weight", p + "attn.norm_k.weight");
    }
}
