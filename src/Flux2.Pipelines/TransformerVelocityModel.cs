using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines;

/// <summary>The FLUX.2 transformer as the sampler's velocity model (batch 1). The timestep and guidance cross to the
/// backend as one value each per call; the full output buffer is kept between calls of the same size.</summary>
public sealed class TransformerVelocityModel : IVelocityModel, IDisposable
{
    private readonly Tensor _timestep;
    private readonly Tensor _guidance;
    private readonly float[] _scalar = new float[1];
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
        int tokens = hiddenStates.Shape[1], imageTokens = velocity.Shape[1], channels = Transformer.Config.EffectiveOutChannels;
        if (_output == null || _output.Shape[1] != tokens)
        {
            _output?.Dispose();
            _output = null;
            _output = Backend.Allocate(DType.Float32, 1, tokens, channels);
        }
        Upload(timestep, _timestep);
        if (guidance != null) Upload(guidance.Value, _guidance);
        if (!Transformer.Forward(hiddenStates, prompt.Embeddings, _timestep, guidance == null ? null : _guidance, imageIds, prompt.TextIds, _output, firstBlock))
            return false;
        Backend.Copy(imageTokens == tokens ? _output : _output.Reshape(tokens, channels).Slice0(0, imageTokens), velocity);
        return true;
    }

    private void Upload(float value, Tensor destination)
    {
        _scalar[0] = value;
        Backend.Upload<float>(_scalar, destination);
    }

    public void Dispose()
    {
        _output?.Dispose();
        _timestep.Dispose();
        _guidance.Dispose();
        Transformer.Dispose();
    }
}
