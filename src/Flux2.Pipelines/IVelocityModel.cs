using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines;

/// <summary>The denoiser as the sampling loop sees it: the FLUX.2 transformer's velocity prediction for the noisy tokens.</summary>
public interface IVelocityModel
{
    /// <summary>Where the model's inputs and outputs live.</summary>
    IBackend Backend { get; }

    /// <summary>Features per text token the model expects (joint_attention_dim).</summary>
    int TextFeatures { get; }

    /// <param name="hiddenStates">Float32 [1, L_img + L_ref, 128]: noisy tokens, then reference tokens</param>
    /// <param name="imageIds">Int64 [L_img + L_ref, 4]</param>
    /// <param name="timestep">sigma in [0, 1] (the model scales it by 1000)</param>
    /// <param name="guidance">embedded guidance (dev); null for models without a guidance embedder</param>
    /// <param name="firstBlock">First-Block-Cache's decision point after double block 0 (spec §10.1); null runs the whole model</param>
    /// <param name="velocity">Float32 [1, L_img, 128]: receives the prediction for the noisy tokens (the output sliced to
    /// [:, :L_img])</param>
    /// <returns>false when <paramref name="firstBlock"/> stopped the pass (<paramref name="velocity"/> is then untouched)</returns>
    bool Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? firstBlock,
        Tensor velocity);

    /// <summary>klein 9B-KV's first step with reference images (spec §3.11).</summary>
    /// <param name="hiddenStates">Float32 [B, L_ref + L_img, 128]: the reference tokens first, then the noisy ones</param>
    /// <param name="imageIds">Int64 [L_ref + L_img, 4], in that order</param>
    /// <param name="velocity">Float32 [B, L_img, 128]: receives the prediction for the noisy tokens</param>
    /// <returns>the references' keys and values for the later steps (the caller disposes them)</returns>
    ReferenceKvCache PredictExtractingReferences(Tensor hiddenStates, int referenceTokens, Tensor imageIds, PromptEmbedding prompt, float timestep,
        Tensor velocity);

    /// <summary>klein 9B-KV's later steps: <paramref name="hiddenStates"/> [B, L_img, 128] holds the noisy tokens alone, and
    /// the references come from <paramref name="references"/>.</summary>
    void PredictWithReferences(Tensor hiddenStates, ReferenceKvCache references, Tensor imageIds, PromptEmbedding prompt, float timestep,
        Tensor velocity);
}
