using Flux2.Core.Gguf;
using Flux2.Core.SafeTensors;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// The hyperparameters a text encoder in llama.cpp's GGUF layout states under <c>{architecture}.*</c>: each one present must
/// agree with what the tensor shapes imply, and the file gives what no tensor holds: the RMSNorm eps and the RoPE base θ
/// (stored as float32: a value that is the published model's rounded to float32 is taken as the published value), and a
/// Mistral model's head size.
/// </summary>
public static class TextEncoderGgufMetadata
{
    /// <summary>Checks that general.architecture names the model the tensors hold (Qwen3 has q_norm and k_norm, Mistral not).</summary>
    public static void CheckArchitecture(GgufFile file, IReadOnlyDictionary<string, TensorInfo> tensors)
    {
        string architecture = file.Architecture ?? throw new TextEncoderException($"{file.FilePath}: no 'general.architecture'");
        bool qkNorm = tensors.ContainsKey("model." + TextEncoderLayerWeights.Prefix(0) + TextEncoderLayerWeights.QNormName);
        if ((architecture == "qwen3") != qkNorm)
            throw new TextEncoderException($"{file.FilePath}: general.architecture is '{architecture}', but the tensors are those of a " +
                $"{(qkNorm ? "Qwen3" : "Mistral")} model ({(qkNorm ? "with" : "without")} q_norm / k_norm)");
    }

    /// <summary>The configuration <paramref name="inferred"/> from the shapes, with eps and θ from the file once every
    /// hyperparameter it states agrees.</summary>
    public static TextEncoderConfig Apply(TextEncoderConfig inferred, GgufFile file)
    {
        string architecture = file.Architecture!;
        void Agree(string key, int fromShapes)
        {
            if (Integer(file, architecture + key) is { } stated && stated != fromShapes)
                throw new TextEncoderException($"{file.FilePath}: metadata '{architecture}{key}' is {stated}, but the tensors give {fromShapes}");
        }
        Agree(".vocab_size", inferred.VocabSize);
        Agree(".block_count", inferred.NumLayers);
        Agree(".embedding_length", inferred.HiddenSize);
        Agree(".feed_forward_length", inferred.IntermediateSize);
        Agree(".attention.head_count", inferred.NumHeads);
        Agree(".attention.head_count_kv", inferred.NumKeyValueHeads);
        Agree(".attention.key_length", inferred.HeadDim);
        Agree(".attention.value_length", inferred.HeadDim);
        Agree(".rope.dimension_count", inferred.HeadDim);

        var config = inferred with
        {
            RmsNormEps = Float(file, architecture + ".attention.layer_norm_rms_epsilon", inferred.RmsNormEps),
            RopeTheta = Float(file, architecture + ".rope.freq_base", inferred.RopeTheta),
        };
        config.Validate($"{file.FilePath} (GGUF metadata)");
        return config;
    }

    /// <summary>The head size the file states (attention.key_length), which a model without q_norm has in no tensor.</summary>
    public static int? HeadDim(GgufFile file) =>
        file.Architecture is { } architecture && Integer(file, architecture + ".attention.key_length") is { } d
            ? (d is > 0 and <= int.MaxValue ? (int)d : throw new TextEncoderException($"{file.FilePath}: metadata '{architecture}.attention.key_length' is {d}, not a head size"))
            : null;

    private static long? Integer(GgufFile file, string key) => file.Values.TryGetValue(key, out var value)
        ? value switch
        {
            byte or sbyte or ushort or short or uint or int or ulong or long => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
            _ => throw new TextEncoderException($"{file.FilePath}: metadata '{key}' must be an integer, found {value}"),
        }
        : null;

    private static double Float(GgufFile file, string key, double published)
    {
        if (!file.Values.TryGetValue(key, out var value)) return published;
        return value switch
        {
            float f => f == (float)published ? published : f,
            double d => d,
            _ => throw new TextEncoderException($"{file.FilePath}: metadata '{key}' must be a number, found {value}"),
        };
    }
}
