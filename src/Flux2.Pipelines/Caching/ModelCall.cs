using Flux2.Core;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines.Caching;

/// <summary>The model inputs of one guidance stream at one denoising step.</summary>
public readonly record struct ModelCall(IVelocityModel Model, Tensor HiddenStates, Tensor ImageIds, PromptEmbedding Prompt, float Timestep, float? Guidance)
{
    /// <summary>A full model pass; its prediction for the noisy tokens (the first <c>velocity.Length</c> values) goes to <paramref name="velocity"/>.</summary>
    public void Predict(Span<float> velocity) => TryPredict(velocity, firstBlock: null);

    /// <summary>A model pass that <paramref name="firstBlock"/> may stop after double block 0.</summary>
    /// <returns>false when it stopped (<paramref name="velocity"/> is then untouched)</returns>
    public bool TryPredict(Span<float> velocity, IFirstBlockHook? firstBlock)
    {
        using var output = Model.Predict(HiddenStates, ImageIds, Prompt, Timestep, Guidance, firstBlock);
        if (output == null) return false;
        output.AsSpan<float>()[..velocity.Length].CopyTo(velocity);
        return true;
    }
}
