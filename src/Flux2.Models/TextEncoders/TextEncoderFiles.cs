namespace Flux2.Models.TextEncoders;

/// <summary>Finds a text encoder's config.json and weights: a diffusers <c>text_encoder/</c> folder (config.json with
/// model.safetensors, or shards listed by model.safetensors.index.json), or a single .safetensors / index file whose
/// config is given separately or lies beside it.</summary>
public static class TextEncoderFiles
{
    public const string ConfigFileName = "config.json";
    public const string SingleFileName = "model.safetensors";
    public const string IndexFileName = "model.safetensors.index.json";

    public static (string ConfigPath, string WeightsPath) Resolve(string weightsPath, string? configPath)
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
            throw new TextEncoderException($"{weightsPath}: text-encoder weights not found (expected a folder or a .safetensors file)");
        }

        if (configPath != null) return (configPath, weights);
        var besides = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(weights))!, ConfigFileName);
        return File.Exists(besides)
            ? (besides, weights)
            : throw new TextEncoderException($"{weightsPath}: no {ConfigFileName} beside the weights; give the text encoder's config.json explicitly");
    }
}
