using System.Text.Json.Nodes;
using Flux2.Core;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>
/// Builds small but complete diffusers-style FLUX.2 model folders from the golden fixtures, for pipeline and CLI tests.
/// <list type="bullet">
/// <item><see cref="Dev"/>: tiny_dev transformer + vae_small, no text encoder (the pipe_t2i / pipe_edit golden setup).</item>
/// <item><see cref="Klein"/>: tiny_klein transformer + vae_small + a random 28-layer Qwen3 text encoder whose vocabulary
/// covers the real Qwen3 tokenizer (copied in as tokenizer/). The golden tiny Qwen3 has a 1024-token vocabulary and a
/// hidden size of 64 (192 features, not tiny_klein's 96), so the encoder is generated here, hidden size 16, and the
/// transformer's context_embedder is replaced by a random [128, 48] one (the only weight that depends on the text width).</item>
/// </list>
/// </summary>
public static class TinyModelFolders
{
    public const int TextHidden = 16;
    public const int TextLayers = 28;
    /// <summary>Covers every Qwen3 token id, the special tokens (151643..151668) included.</summary>
    public const int TextVocab = 151680;

    public static void Dev(string folder)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "model_index.json"),
            """{"_class_name": "Flux2Pipeline", "_diffusers_version": "0.37.0", "transformer": ["diffusers", "Flux2Transformer2DModel"], "vae": ["diffusers", "AutoencoderKLFlux2"]}""");
        Component(folder, "transformer", ConfigOf("tiny_dev"), Fixtures.Golden("tiny_dev.diffusers.safetensors"), "diffusion_pytorch_model.safetensors");
        Vae(folder);
    }

    /// <summary>The distilled klein folder as klein 9B-KV's repository names its pipeline (<c>Flux2KleinKVPipeline</c>).</summary>
    public static void KleinKv(string folder)
    {
        Klein(folder);
        var index = Path.Combine(folder, "model_index.json");
        File.WriteAllText(index, File.ReadAllText(index).Replace("\"Flux2KleinPipeline\"", "\"Flux2KleinKVPipeline\""));
    }

    public static void Klein(string folder, bool distilled = true)
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "model_index.json"), $$"""
            {"_class_name": "Flux2KleinPipeline", "_diffusers_version": "0.37.0", "is_distilled": {{(distilled ? "true" : "false")}},
             "scheduler": ["diffusers", "FlowMatchEulerDiscreteScheduler"], "text_encoder": ["transformers", "Qwen3ForCausalLM"],
             "tokenizer": ["transformers", "Qwen2TokenizerFast"], "transformer": ["diffusers", "Flux2Transformer2DModel"],
             "vae": ["diffusers", "AutoencoderKLFlux2"]}
            """);
        Directory.CreateDirectory(Path.Combine(folder, "scheduler"));
        File.WriteAllText(Path.Combine(folder, "scheduler", "scheduler_config.json"),
            """{"_class_name": "FlowMatchEulerDiscreteScheduler", "num_train_timesteps": 1000, "shift": 3.0, "use_dynamic_shifting": true}""");

        var config = ConfigOf("tiny_klein");
        config["joint_attention_dim"] = 3 * TextHidden;
        var transformer = Path.Combine(folder, "transformer");
        Directory.CreateDirectory(transformer);
        File.WriteAllText(Path.Combine(transformer, "config.json"), config.ToJsonString());
        KleinTransformerWeights(Path.Combine(transformer, "diffusion_pytorch_model.safetensors"));

        Vae(folder);
        TextEncoder(Path.Combine(folder, "text_encoder"));
        var tokenizer = Path.Combine(folder, "tokenizer");
        Directory.CreateDirectory(tokenizer);
        foreach (var file in Directory.GetFiles(Fixtures.File("tokenizers", "qwen3")))
            File.Copy(file, Path.Combine(tokenizer, Path.GetFileName(file)));
    }

    /// <summary>The tiny klein model of <paramref name="kleinFolder"/> (written by <see cref="Klein"/>) as the single files
    /// BFL and ComfyUI distribute, in <paramref name="target"/>: flux-2-klein-4b.safetensors (BFL names, the folder's
    /// context embedder as txt_in), ae.safetensors (BFL VAE names) and qwen_3_4b.safetensors (the text encoder without its
    /// config.json). Loaded together they are the folder's model.</summary>
    public static (string Transformer, string Vae, string TextEncoder) KleinSingleFiles(string kleinFolder, string target)
    {
        Directory.CreateDirectory(target);
        var files = (Path.Combine(target, "flux-2-klein-4b.safetensors"), Path.Combine(target, "ae.safetensors"), Path.Combine(target, "qwen_3_4b.safetensors"));
        using (var diffusers = SafeTensorsFile.Open(Path.Combine(kleinFolder, "transformer", "diffusion_pytorch_model.safetensors")))
        {
            var context = diffusers.Get("context_embedder.weight");
            SafeTensorsRewrite.Rewrite(Fixtures.Golden("tiny_klein.bfl.safetensors"), files.Item1,
                v => v.Name == "txt_in.weight" ? (v.Name, context.DType, context.Shape, context.ToByteArray()) : SafeTensorsRewrite.Keep(v));
        }
        File.Copy(Fixtures.Golden("vae_small.bfl.safetensors"), files.Item2);
        File.Copy(Path.Combine(kleinFolder, "text_encoder", "model.safetensors"), files.Item3);
        return files;
    }

    private static void Vae(string folder) =>
        Component(folder, "vae", ConfigOf("vae_small"), Fixtures.Golden("vae_small.diffusers.safetensors"), "diffusion_pytorch_model.safetensors");

    private static void Component(string folder, string name, JsonObject config, string weights, string weightsName)
    {
        var dir = Path.Combine(folder, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        File.Copy(weights, Path.Combine(dir, weightsName));
    }

    /// <summary>The diffusers config.json recorded in a golden case's json.</summary>
    private static JsonObject ConfigOf(string goldenCase)
    {
        var doc = JsonNode.Parse(File.ReadAllText(Fixtures.Golden(goldenCase + ".json")))!;
        return doc["config.json"]!.AsObject().DeepClone().AsObject();
    }

    private static void KleinTransformerWeights(string path)
    {
        using var source = SafeTensorsFile.Open(Fixtures.Golden("tiny_klein.diffusers.safetensors"));
        var writer = new SafeTensorsWriter();
        var random = new Random(2024);
        foreach (var name in source.Names)
        {
            var view = source.Get(name);
            if (name == "context_embedder.weight")
            {
                long inner = view.Shape[0];
                writer.AddFloat32(name, [inner, 3 * TextHidden], Uniform(random, (int)inner * 3 * TextHidden, 1 / MathF.Sqrt(3 * TextHidden)));
            }
            else
            {
                writer.Add(name, view.DType, view.Shape, view.AsSpan<byte>());
            }
        }
        writer.Write(path);
    }

    private static void TextEncoder(string dir)
    {
        Directory.CreateDirectory(dir);
        const int heads = 2, kvHeads = 1, headDim = 8, intermediate = 32;
        // A JsonObject rather than reflection-based serialization, which trimmed test builds do not have.
        File.WriteAllText(Path.Combine(dir, "config.json"), new JsonObject
        {
            ["architectures"] = new JsonArray("Qwen3ForCausalLM"),
            ["model_type"] = "qwen3",
            ["vocab_size"] = TextVocab,
            ["hidden_size"] = TextHidden,
            ["intermediate_size"] = intermediate,
            ["num_hidden_layers"] = TextLayers,
            ["num_attention_heads"] = heads,
            ["num_key_value_heads"] = kvHeads,
            ["head_dim"] = headDim,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 1000000.0,
            ["attention_bias"] = false,
            ["tie_word_embeddings"] = true,
        }.ToJsonString());
        var random = new Random(7);
        var writer = new SafeTensorsWriter();
        void Linear(string name, int rows, int cols) => writer.AddFloat32(name, [rows, cols], Uniform(random, rows * cols, 1 / MathF.Sqrt(cols)));
        void Norm(string name, int size) => writer.AddFloat32(name, [size], Uniform(random, size, 0.1f).Select(v => 1 + v).ToArray());
        writer.AddFloat32("model.embed_tokens.weight", [TextVocab, TextHidden], Uniform(random, TextVocab * TextHidden, 1f));
        for (int i = 0; i < TextLayers; i++)
        {
            string p = $"model.layers.{i}.";
            Norm(p + "input_layernorm.weight", TextHidden);
            Norm(p + "self_attn.q_norm.weight", headDim);
            Norm(p + "self_attn.k_norm.weight", headDim);
            Linear(p + "self_attn.q_proj.weight", heads * headDim, TextHidden);
            Linear(p + "self_attn.k_proj.weight", kvHeads * headDim, TextHidden);
            Linear(p + "self_attn.v_proj.weight", kvHeads * headDim, TextHidden);
            Linear(p + "self_attn.o_proj.weight", TextHidden, heads * headDim);
            Norm(p + "post_attention_layernorm.weight", TextHidden);
            Linear(p + "mlp.gate_proj.weight", intermediate, TextHidden);
            Linear(p + "mlp.up_proj.weight", intermediate, TextHidden);
            Linear(p + "mlp.down_proj.weight", TextHidden, intermediate);
        }
        Norm("model.norm.weight", TextHidden);
        writer.Write(Path.Combine(dir, "model.safetensors"));
    }

    private static float[] Uniform(Random random, int count, float bound)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * bound;
        return values;
    }
}
