using Flux2.Models;
using Flux2.Models.Vae;

namespace Flux2.Pipelines;

/// <summary>
/// About how much working memory a generation needs besides the (memory-mapped) weights, from its plan alone, so that a
/// job that cannot fit is refused before it starts rather than killed an hour in. Two peaks, not simultaneous: the
/// transformer's activation buffers for the whole token sequence (with klein 9B-KV's reference cache beside them), and the
/// VAE decoder at full resolution.
/// </summary>
public static class GenerationMemory
{
    /// <summary>Activation values per token of one transformer pass: the image-stream, text-stream and joint buffers of
    /// <c>Flux2TransformerActivations</c> come to about 15·D + 6·M per token (D hidden size, M MLP hidden size).</summary>
    private static long TransformerValuesPerToken(Flux2Config c) => 15L * c.InnerDim + 6L * c.MlpHidden + c.AttentionHeadDim;

    /// <summary>The decoder's widest level runs at full resolution with about five live buffers of its channel count
    /// (measured: 2.76 GB peak for a 1024² decode with 128 channels, 512 B per pixel per buffer).</summary>
    private const int VaeLiveBuffers = 5;

    /// <param name="activationBytes">bytes per activation value on the backend (4 for Float32)</param>
    /// <param name="referenceTokens">tokens of the encoded reference images, which join the image sequence</param>
    /// <param name="batch">images denoised together (the VAE decodes one at a time)</param>
    /// <param name="cachesReferences">klein 9B-KV: the references' keys and values of every layer (2·D values a token) are
    /// kept through the steps (4.3 GB in fp32 for a 1024² reference on klein 9B)</param>
    public static long EstimateBytes(Flux2Config transformer, VaeConfig vae, GenerationPlan plan, int referenceTokens, int activationBytes, int batch = 1,
        bool cachesReferences = false)
    {
        long tokens = (long)batch * (plan.ImageTokens + referenceTokens + Config.Flux2ArchConfig.TextSeqLen);
        long transformerBytes = tokens * TransformerValuesPerToken(transformer) * activationBytes;
        if (cachesReferences)
            transformerBytes += (long)batch * referenceTokens * (transformer.NumLayers + transformer.NumSingleLayers) * 2L * transformer.InnerDim * activationBytes;
        long vaeBytes = (long)plan.Width * plan.Height * vae.BlockOutChannels[0] * sizeof(float) * VaeLiveBuffers;
        return Math.Max(transformerBytes, vaeBytes);
    }
}
