using System.Text;

namespace Flux2.Hub.Tests;

/// <summary>A small diffusers repository as the Hub holds one: what the pipeline reads (configs, tokenizer files, a sharded
/// transformer, single-file VAE and text encoder) and what it does not (a BFL single file at the root, an fp16 variant,
/// a .bin copy, a README). The weights are random bytes: downloading never parses them.</summary>
public static class SampleRepository
{
    public const string Repo = "black-forest-labs/FLUX.2-klein-4B";

    public const string Shard1 = "transformer/diffusion_pytorch_model-00001-of-00002.safetensors";
    public const string Shard2 = "transformer/diffusion_pytorch_model-00002-of-00002.safetensors";

    /// <summary>Every file the pipeline reads, which is what a download must fetch.</summary>
    public static readonly string[] PipelineFiles =
    [
        "model_index.json",
        "scheduler/scheduler_config.json",
        "text_encoder/config.json",
        "text_encoder/model.safetensors",
        "tokenizer/chat_template.jinja",
        "tokenizer/tokenizer.json",
        "tokenizer/tokenizer_config.json",
        "transformer/config.json",
        "transformer/diffusion_pytorch_model.safetensors.index.json",
        Shard1,
        Shard2,
        "vae/config.json",
        "vae/diffusion_pytorch_model.safetensors",
    ];

    /// <summary>Files a download must leave alone.</summary>
    public static readonly string[] Extras =
    [
        "README.md",
        "flux-2-klein-4b.safetensors",
        "transformer/diffusion_pytorch_model.fp16.safetensors",
        "vae/diffusion_pytorch_model.bin",
    ];

    /// <param name="seed">varies the weights, so that two commits differ</param>
    public static Dictionary<string, byte[]> Files(int seed = 1)
    {
        var random = new Random(seed);
        byte[] Bytes(int count)
        {
            var b = new byte[count];
            random.NextBytes(b);
            return b;
        }
        byte[] Text(string s) => Encoding.UTF8.GetBytes(s);
        return new Dictionary<string, byte[]>(StringComparer.Ordinal)
        {
            ["model_index.json"] = Text("""
                {"_class_name": "Flux2KleinPipeline", "_diffusers_version": "0.37.0", "is_distilled": true,
                 "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"], "text_encoder": ["transformers", "Qwen3ForCausalLM"],
                 "tokenizer": ["transformers", "Qwen2TokenizerFast"], "transformer": ["diffusers", "Flux2Transformer2DModel"],
                 "vae": ["diffusers", "AutoencoderKLFlux2"]}
                """),
            ["scheduler/scheduler_config.json"] = Text("""{"_class_name": "FlowMatchEulerDiscreteScheduler", "use_dynamic_shifting": true}"""),
            ["text_encoder/config.json"] = Text("""{"model_type": "qwen3"}"""),
            ["text_encoder/model.safetensors"] = Bytes(70_000),
            ["tokenizer/chat_template.jinja"] = Text("{{ messages }}"),
            ["tokenizer/tokenizer.json"] = Text("""{"model": {"type": "BPE"}}"""),
            ["tokenizer/tokenizer_config.json"] = Text("{}"),
            ["transformer/config.json"] = Text("""{"_class_name": "Flux2Transformer2DModel"}"""),
            ["transformer/diffusion_pytorch_model.safetensors.index.json"] = Text($$$"""
                {"metadata": {"total_size": 1}, "weight_map": {"a.weight": "{{{Path.GetFileName(Shard1)}}}", "b.weight": "{{{Path.GetFileName(Shard2)}}}",
                 "c.weight": "{{{Path.GetFileName(Shard2)}}}"}}
                """),
            [Shard1] = Bytes(300_000),
            [Shard2] = Bytes(2_500_000 + seed),
            ["vae/config.json"] = Text("""{"_class_name": "AutoencoderKLFlux2"}"""),
            ["vae/diffusion_pytorch_model.safetensors"] = Bytes(50_000),
            ["README.md"] = Text("# FLUX.2 klein"),
            ["flux-2-klein-4b.safetensors"] = Bytes(400_000),
            ["transformer/diffusion_pytorch_model.fp16.safetensors"] = Bytes(150_000),
            ["vae/diffusion_pytorch_model.bin"] = Bytes(10_000),
        };
    }
}
