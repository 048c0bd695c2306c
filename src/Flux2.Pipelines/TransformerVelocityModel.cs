using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines;

/// <summary>The FLUX.2 transformer as the sampler's velocity model. The timestep and guidance cross to the backend as one
/// value per image per call; the full output buffer is kept between calls of the same size.</summary>
public sealed class TransformerVelocityModel : IVelocityModel, IDisposable
{
    private Tensor _timestep;
    private Tensor _guidance;
    private Tensor? _output;

    public TransformerVelocityModel(Flux2Transformer transformer)
    {
        Transformer = transformer;
        _timestep = Backend.Allocate(DType.Float32, 1);
        _guidance = Backend.Allocate(DType.Float32, 1);
    }

    public Flux2Transformer Transformer { get; }

    public IBackend Backend => Transformer.Backend;

    public int TextFeatures => Transformer.Config.JointAttentionDim;

    public bool Predict(Tensor hiddenStates, Tensor imageIds, PromptEmbedding prompt, float timestep, float? guidance, IFirstBlockHook? firstBlock,
        Tensor velocity)
    {
        int batch = hiddenStates.Shape[0], tokens = hiddenStates.Shape[1], channels = Transformer.Config.EffectiveOutChannels;
        if (_output == null || _output.Shape[0] != batch || _output.Shape[1] != tokens)
        {
            _output?.Dispose();
            _output = null;
            _output = Backend.Allocate(DType.Float32, batch, tokens, channels);
        }
        SetTimestep(batch, timestep, guidance);
        if (!Transformer.Forward(hiddenStates, prompt.Embeddings, _timestep, guidance == null ? null : _guidance, imageIds, prompt.TextIds, _output, firstBlock))
            return false;
        DenoisingLoop.CopyLeadingTokens(Backend, _output, velocity);
        return true;
    }

    public ReferenceKvCache PredictExtractingReferences(Tensor hiddenStates, int referenceTokens, Tensor imageIds, PromptEmbedding prompt, float timestep,
        Tensor velocity)
    {
        SetTimestep(hiddenStates.Shape[0], timestep, null);
        return Transformer.ForwardExtractingReferences(hiddenStates, referenceTokens, prompt.Embeddings, _timestep, null, imageIds, prompt.TextIds, velocity);
    }

    public void PredictWithReferences(Tensor hiddenStates, ReferenceKvCache references, Tensor imageIds, PromptEmbedding prompt, float timestep,
        Tensor velocity)
    {
        SetTimestep(hiddenStates.Shape[0], timestep, null);
        Transformer.ForwardWithReferenceCache(hiddenStates, references, prompt.Embeddings, _timestep, null, imageIds, prompt.TextIds, velocity);
    }

    private void SetTimestep(int batch, float timestep, float? guidance)
    {
        if (_timestep.Shape[0] != batch)
        {
            var timestepRow = Backend.Allocate(DType.Float32, batch);
            _timestep.Dispose();
            _timestep = timestepRow;
            var guidanceRow = Backend.Allocate(DType.Float32, batch);
            _guidance.Dispose();
            _guidance = guidanceRow;
        }
        Upload(timestep, _timestep);
        if (guidance != null) Upload(guidance.Value, _guidance);
    }

    /// <summary>One value for every sample of the batch: the batch's images share the step.</summary>
    private void Upload(float value, Tensor destination)
    {
        Span<float> values = stackalloc float[destination.Shape[0]];
        values.Fill(value);
        Backend.Upload<float>(values, destination);
    }

    public void Dispose()
    {
        _output?.Dispose();
        _timestep.Dispose();
        _guidance.Dispose();
        Transformer.Dispose();
    }
}
