using Flux2.Models.Lora;

namespace Flux2.Models.Tests.Lora;

/// <summary>Tensor names of the LoRA formats, as their tools write them, split into module and role.</summary>
public class LoraKeyTests
{
    [Theory]
    // diffusers / PEFT (pipeline save_lora_weights; PEFT save_pretrained; SimpleTuner's lora.down / lora.up)
    [InlineData("transformer.transformer_blocks.0.attn.to_q.lora_A.weight", "transformer_blocks.0.attn.to_q", LoraTensorRole.Down)]
    [InlineData("transformer.single_transformer_blocks.3.attn.to_qkv_mlp_proj.lora_B.weight", "single_transformer_blocks.3.attn.to_qkv_mlp_proj", LoraTensorRole.Up)]
    [InlineData("base_model.model.transformer_blocks.1.ff_context.linear_out.lora_A.weight", "transformer_blocks.1.ff_context.linear_out", LoraTensorRole.Down)]
    [InlineData("transformer.x_embedder.lora.down.weight", "x_embedder", LoraTensorRole.Down)]
    [InlineData("transformer.norm_out.linear.lora.up.weight", "norm_out.linear", LoraTensorRole.Up)]
    [InlineData("transformer.transformer_blocks.0.attn.to_out.0.alpha", "transformer_blocks.0.attn.to_out.0", LoraTensorRole.Alpha)]
    // BFL / ai-toolkit / ComfyUI
    [InlineData("diffusion_model.double_blocks.1.img_attn.qkv.lora_B.weight", "double_blocks.1.img_attn.qkv", LoraTensorRole.Up)]
    [InlineData("diffusion_model.single_blocks.7.linear1.lora_A.weight", "single_blocks.7.linear1", LoraTensorRole.Down)]
    [InlineData("model.diffusion_model.final_layer.adaLN_modulation.1.lora_down.weight", "final_layer.adaLN_modulation.1", LoraTensorRole.Down)]
    [InlineData("double_blocks.0.txt_mlp.2.lora_up.weight", "double_blocks.0.txt_mlp.2", LoraTensorRole.Up)]
    // kohya (sd-scripts, musubi-tuner): BFL names with underscores; lora_transformer_ before underscored diffusers names
    [InlineData("lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight", "double_blocks_0_img_attn_qkv", LoraTensorRole.Down)]
    [InlineData("lora_unet_single_blocks_19_linear2.lora_up.weight", "single_blocks_19_linear2", LoraTensorRole.Up)]
    [InlineData("lora_unet_double_blocks_0_img_attn_qkv.alpha", "double_blocks_0_img_attn_qkv", LoraTensorRole.Alpha)]
    [InlineData("lora_transformer_single_transformer_blocks_0_attn_to_out.lora_down.weight", "single_transformer_blocks_0_attn_to_out", LoraTensorRole.Down)]
    // LyCORIS LoHa / LoKr: its own lycoris_ prefix, and the kohya, ComfyUI and PEFT spellings
    [InlineData("lycoris_transformer_blocks_0_attn_to_q.lokr_w1", "transformer_blocks_0_attn_to_q", LoraTensorRole.LokrW1)]
    [InlineData("lycoris_single_transformer_blocks_2_attn_to_out.lokr_w2_b", "single_transformer_blocks_2_attn_to_out", LoraTensorRole.LokrW2B)]
    [InlineData("lycoris_transformer_blocks_0_attn_to_q.alpha", "transformer_blocks_0_attn_to_q", LoraTensorRole.Alpha)]
    [InlineData("lora_unet_double_blocks_0_img_mlp_0.hada_w1_a", "double_blocks_0_img_mlp_0", LoraTensorRole.HadaW1A)]
    [InlineData("lora_unet_double_blocks_0_img_mlp_0.hada_w2_b", "double_blocks_0_img_mlp_0", LoraTensorRole.HadaW2B)]
    [InlineData("diffusion_model.single_blocks.0.linear1.lokr_w1_a", "single_blocks.0.linear1", LoraTensorRole.LokrW1A)]
    [InlineData("base_model.model.transformer_blocks.0.ff.linear_in.lokr_w2", "transformer_blocks.0.ff.linear_in", LoraTensorRole.LokrW2)]
    // DoRA magnitudes: PEFT's (as saved, and with PEFT's inner .weight) and LyCORIS'
    [InlineData("transformer.transformer_blocks.0.attn.to_q.lora_magnitude_vector", "transformer_blocks.0.attn.to_q", LoraTensorRole.Magnitude)]
    [InlineData("transformer.transformer_blocks.0.attn.to_q.lora_magnitude_vector.weight", "transformer_blocks.0.attn.to_q", LoraTensorRole.Magnitude)]
    [InlineData("lora_unet_double_blocks_0_img_attn_qkv.dora_scale", "double_blocks_0_img_attn_qkv", LoraTensorRole.Magnitude)]
    public void SplitsModuleAndRole(string key, string module, LoraTensorRole role) =>
        Assert.Equal(new LoraKey(module, role), LoraKey.Parse(key));

    [Theory]
    [InlineData("diffusion_model.double_blocks.0.img_attn.qkv.weight")] // a full weight, not a LoRA tensor
    [InlineData("lora_unet_double_blocks_0_img_attn_qkv.lora_mid.weight")] // LoCon
    [InlineData("lycoris_double_blocks_0_img_attn_qkv.lokr_t2")] // Tucker cores (convolutions)
    [InlineData("lycoris_double_blocks_0_img_attn_qkv.hada_t1")]
    [InlineData("diffusion_model.double_blocks.0.img_attn.qkv.diff_b")] // bias delta
    [InlineData("diffusion_model.double_blocks.0.img_attn.qkv.lora_B.bias")]
    [InlineData("lora_unet_.alpha")] // nothing left of the module
    public void OtherTensorsAreNoLoraPair(string key) => Assert.Null(LoraKey.Parse(key));
}
