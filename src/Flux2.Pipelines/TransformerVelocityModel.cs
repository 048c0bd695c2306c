using Flux2.Core;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines;

/// <summary>The FLUX.2 transformer as the sampler's velocity model (batch 1).</summary>
public sealed class TransformerVelocityModel(Flux2Transformer transformer) : IVelocityModel, IDisposable
{
    private readonly Tensor _timestep = Tensor.Zeros(1);
    private readonly Tensor _guidance = Tensor.Zeros(1);

    public Flux2Transformer Transformer { get; } = transformer;

    public int TextFeatures => Transformer.Config.JointAttentionDim;

    public Tensor? Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? firstBlock)
    {
        _timestep.AsSpan<float>()[0] = timestep;
        _guidance.AsSpan<float>()[0] = guidance ?? 0f;
        var output = Tensor.Zeros(hiddenStates.Shape[0], hiddenStates.Shape[1], Transformer.Config.EffectiveOutChannels);
        try
        {
            if (Transformer.Forward(hiddenStates, prompt.Embeddings, _timestep, guidance == null ? null : _guidance, imageIds, prompt.TextIds, output, firstBlock))
                return output;
            output.Dispose();
            return null;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _timestep.Dispose();
        _guidance.Dispose();
        Transformer.Dispose();
    }
}
