namespace Flux2.Models.TextEncoders;

/// <summary>
/// Whether a text encoder can feed a transformer (spec §1.1, §7.4): the transformer reads three stacked hidden states, so
/// its joint_attention_dim must be 3 × the encoder's hidden size, and dev reads a Mistral encoder, klein a Qwen3 one
/// (klein 4B: Qwen3-4B, klein 9B: Qwen3-8B, dev: Mistral-Small-3.x).
/// </summary>
public static class TextEncoderFit
{
    /// <param name="expected">the architecture the transformer reads: Mistral for dev, Qwen3 for klein</param>
    /// <returns>null when the encoder fits; else what is wrong, in one line naming both</returns>
    public static string? Problem(Flux2Config transformer, TextEncoderArchitecture expected, string transformerSource, TextEncoderConfig encoder,
        string encoderSource)
    {
        int features = encoder.FluxHiddenStateLayers.Count * encoder.HiddenSize;
        string what = $"the text encoder {encoderSource} ({Describe(encoder)})";
        if (features != transformer.JointAttentionDim)
        {
            int wanted = transformer.JointAttentionDim / encoder.FluxHiddenStateLayers.Count;
            string needs = transformer.JointAttentionDim % encoder.FluxHiddenStateLayers.Count != 0 ? ""
                : $": it needs an encoder of hidden size {wanted}"
                    + (TextEncoderConfig.PublishedNameOf(expected, wanted) is { } name ? $" ({name})" : "");
            return $"{what} gives {encoder.FluxHiddenStateLayers.Count} x {encoder.HiddenSize} = {features} features per token, but the " +
                $"transformer {transformerSource} reads joint_attention_dim {transformer.JointAttentionDim}{needs}";
        }
        if (encoder.Architecture != expected)
            return $"{what} is {encoder.Architecture}, but the transformer {transformerSource} reads a {expected} encoder " +
                $"(dev: Mistral, klein: Qwen3)";
        return null;
    }

    /// <summary>"Qwen3-4B, hidden size 2560" or "Qwen3, hidden size 1024".</summary>
    private static string Describe(TextEncoderConfig encoder) => $"{encoder.PublishedName ?? encoder.Architecture.ToString()}, hidden size {encoder.HiddenSize}";
}
