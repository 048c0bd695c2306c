using Flux2.Core.SafeTensors;

namespace Flux2.Models.TextEncoders;

/// <summary>Finds a text encoder's config and weights: a diffusers <c>text_encoder/</c> folder (config.json with
/// model.safetensors, or shards listed by model.safetensors.index.json), or a single .safetensors / index / .gguf file whose
/// config is given separately or lies beside it. Without a config.json (a ComfyUI or stable-diffusion.cpp single file, a
/// llama.cpp GGUF file) the configuration is inferred from the tensor shapes (<see cref="TextEncoderConfigInference"/>).</summary>
public static class TextEncoderFiles
{
    public const string ConfigFileName = "config.json";
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    /// <returns>the config.json to read (null: none, infer from the shapes) and the weights file or index</returns>
    public static (string? ConfigPath, string WeightsPath) Resolve(string weightsPath, string? configPath)
    {
        string weights;
        if (Directory.Exists(weightsPath))
        {
            var index = Path.Combine(weightsPath, IndexFileName);
            var single = Path.Combine(weightsPath, SingleFileName);
            weights = File.Exists(index) ? index
                : File.Exists(single) ? single
                : throw new TextEncoderException($"{weightsPath}: no {SingleFileName} or {IndexFileName} in the text-encoder folder");
        }
        else if (File.Exists(weightsPath))
        {
            weights = weightsPath;
        }
        else
        {
            throw new TextEncoderException($"{weightsPath}: text-encoder weights not found (expected a folder, a .safetensors file or a .gguf file)");
        }

        if (configPath != null) return (configPath, weights);
        var besides = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weights))!, ConfigFileName);
        return (File.Exists(besides) ? besides : null, weights);
    }

    /// <summary>The configuration of the encoder at <paramref name="weightsPath"/>: its config.json, else inferred from the
    /// shapes (only the header is read); with the files <see cref="Resolve"/> found.</summary>
    public static (TextEncoderConfig Config, string? ConfigPath, string WeightsPath) ReadConfig(string weightsPath, string? configPath = null)
    {
        var (configFile, weightsFile) = Resolve(weightsPath, configPath);
        if (configFile != null) return (TextEncoderConfig.FromJsonFile(configFile), configFile, weightsFile);
        using var checkpoint = SafeTensorsCheckpoint.Open(weightsFile);
        return (TextEncoderConfigInference.Infer(checkpoint), null, weightsFile);
    }
}
