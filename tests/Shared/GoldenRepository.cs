using System.Text.Json;

namespace Flux2.Tests;

/// <summary>Assembles diffusers repositories on disk from the golden files and the published configs.</summary>
public static class GoldenRepository
{
    /// <summary>The diffusers config.json a golden case was made with (the "config.json" entry of its CASE.json).</summary>
    public static string ConfigJson(string caseName)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(Fixtures.Golden(caseName + ".json")));
        return doc.RootElement.GetProperty("config.json").GetRawText();
    }

    public static void Text(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        System.IO.File.WriteAllText(path, text);
    }

    public static void Copy(string source, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        System.IO.File.Copy(source, target, overwrite: true);
    }

    /// <summary>A complete dev-style repository: the tiny_dev transformer, vae_small, the tiny Mistral text encoder,
    /// a tokenizer and a scheduler config, under the published FLUX.2-dev model_index.json.</summary>
    public static void WriteDev(string root)
    {
        Copy(Fixtures.File("configs", "flux2-dev", "model_index.json"), Path.Combine(root, "model_index.json"));
        Text(Path.Combine(root, "transformer", "config.json"), ConfigJson("tiny_dev"));
        Copy(Fixtures.Golden("tiny_dev.diffusers.safetensors"), Path.Combine(root, "transformer", "diffusion_pytorch_model.safetensors"));
        Text(Path.Combine(root, "vae", "config.json"), ConfigJson("vae_small"));
        Copy(Fixtures.Golden("vae_small.diffusers.safetensors"), Path.Combine(root, "vae", "diffusion_pytorch_model.safetensors"));
        Text(Path.Combine(root, "text_encoder", "config.json"), ConfigJson("te_mistral_dev"));
        Copy(Fixtures.Golden("te_mistral_dev.safetensors"), Path.Combine(root, "text_encoder", "model.safetensors"));
        Copy(Fixtures.File("tokenizers", "qwen3", "tokenizer.json"), Path.Combine(root, "tokenizer", "tokenizer.json"));
        // The Qwen3 tokenizer stands in for Mistral's, so its pad token is named (dev's default "<pad>" is not among its tokens).
        Text(Path.Combine(root, "tokenizer", "tokenizer_config.json"), "{\"tokenizer_class\":\"PixtralProcessor\",\"pad_token\":\"<|endoftext|>\"}");
        Text(Path.Combine(root, "scheduler", "scheduler_config.json"),
            "{\"_class_name\":\"FlowMatchEulerDiscreteScheduler\",\"num_train_timesteps\":1000,\"shift\":3.0,\"use_dynamic_shifting\":true}");
    }
}
