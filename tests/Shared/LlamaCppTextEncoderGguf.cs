using System.Text.Json.Nodes;
using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;

namespace Flux2.Tests;

/// <summary>
/// Writes a transformers text-encoder checkpoint as llama.cpp's convert_hf_to_gguf.py lays a language model out:
/// <c>token_embd.weight</c>, <c>blk.N.attn_q.weight</c> …, the hyperparameters under <c>{architecture}.*</c>, and for the
/// llama architectures the rows of each head of q_proj and k_proj permuted as its LlamaModel.permute does
/// (reshape(heads, 2, d/2, …).swapaxes(1, 2): row i + s·d/2 of a head goes to row 2i + s).
/// </summary>
public static class LlamaCppTextEncoderGguf
{
    private static readonly (string Transformers, string LlamaCpp)[] LayerNames =
    [
        ("input_layernorm", "attn_norm"), ("self_attn.q_norm", "attn_q_norm"), ("self_attn.k_norm", "attn_k_norm"),
        ("self_attn.q_proj", "attn_q"), ("self_attn.k_proj", "attn_k"), ("self_attn.v_proj", "attn_v"),
        ("self_attn.o_proj", "attn_output"), ("post_attention_layernorm", "ffn_norm"), ("mlp.gate_proj", "ffn_gate"),
        ("mlp.up_proj", "ffn_up"), ("mlp.down_proj", "ffn_down"),
    ];

    /// <param name="config">the checkpoint's config.json</param>
    /// <param name="architecture">general.architecture: "qwen3", "llama" or "mistral3"</param>
    /// <param name="q8">which tensors (by transformers name) to store as ggml Q8_0 blocks instead of their own dtype</param>
    /// <param name="permute">false: write q_proj and k_proj rows as transformers has them, whatever the architecture</param>
    public static GgufBuilder Convert(string checkpoint, JsonObject config, string architecture, Func<string, bool>? q8 = null, bool permute = true)
    {
        int heads = (int)config["num_attention_heads"]!, kvHeads = (int)config["num_key_value_heads"]!;
        var builder = new GgufBuilder()
            .Value("general.architecture", architecture)
            .Value("general.name", "tiny")
            .Value(architecture + ".block_count", (uint)(int)config["num_hidden_layers"]!)
            .Value(architecture + ".embedding_length", (uint)(int)config["hidden_size"]!)
            .Value(architecture + ".feed_forward_length", (uint)(int)config["intermediate_size"]!)
            .Value(architecture + ".attention.head_count", (uint)heads)
            .Value(architecture + ".attention.head_count_kv", (uint)kvHeads)
            .Value(architecture + ".attention.key_length", (uint)(int)config["head_dim"]!)
            .Value(architecture + ".attention.value_length", (uint)(int)config["head_dim"]!)
            .Value(architecture + ".rope.freq_base", (float)(double)config["rope_theta"]!)
            .Value(architecture + ".attention.layer_norm_rms_epsilon", (float)(double)config["rms_norm_eps"]!);
        bool permuted = permute && architecture != "qwen3";
        using var file = SafeTensorsFile.Open(checkpoint);
        foreach (var name in file.Names)
        {
            var view = file.Get(name);
            int rowHeads = !permuted ? 0 : name.EndsWith("q_proj.weight", StringComparison.Ordinal) ? heads
                : name.EndsWith("k_proj.weight", StringComparison.Ordinal) ? kvHeads : 0;
            float[] values = Permute(view.ToFloat32Array(), view.Shape, rowHeads);
            long[] ne = view.Shape.Reverse().ToArray();
            if (q8?.Invoke(name) == true) builder.Tensor(LlamaCppName(name), GgmlType.Q8_0, ne, Q8_0(values));
            else builder.Tensor(LlamaCppName(name), GgmlType.F32, ne, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        }
        return builder;
    }

    public static string LlamaCppName(string name)
    {
        if (name == "model.embed_tokens.weight") return "token_embd.weight";
        if (name == "model.norm.weight") return "output_norm.weight";
        if (name == "lm_head.weight") return "output.weight";
        var parts = name.Split('.');
        string part = string.Join('.', parts[3..^1]);
        return $"blk.{parts[2]}.{LayerNames.Single(n => n.Transformers == part).LlamaCpp}.{parts[^1]}";
    }

    private static float[] Permute(float[] values, long[] shape, int heads)
    {
        if (heads == 0) return values;
        int rows = (int)shape[0], cols = (int)shape[1], d = rows / heads;
        var permuted = new float[values.Length];
        for (int h = 0; h < heads; h++)
        for (int s = 0; s < 2; s++)
        for (int i = 0; i < d / 2; i++)
            Array.Copy(values, (h * d + s * d / 2 + i) * cols, permuted, (h * d + 2 * i + s) * cols, cols);
        return permuted;
    }

    /// <summary>ggml's Q8_0 reference quantizer: per 32 values d = max|x| / 127 (stored as f16), q = round(x / d).</summary>
    private static byte[] Q8_0(float[] values)
    {
        var blocks = new byte[values.Length / 32 * 34];
        for (int b = 0; b < values.Length / 32; b++)
        {
            var block = values.AsSpan(b * 32, 32);
            float amax = 0;
            foreach (var v in block) amax = Math.Max(amax, Math.Abs(v));
            float d = amax / 127, id = d != 0 ? 1 / d : 0;
            BitConverter.TryWriteBytes(blocks.AsSpan(b * 34), (Half)d);
            for (int i = 0; i < 32; i++) blocks[b * 34 + 2 + i] = (byte)(sbyte)MathF.Round(block[i] * id, MidpointRounding.AwayFromZero);
        }
        return blocks;
    }
}
