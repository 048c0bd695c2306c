using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Models;
using Flux2.Models.Lora;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines;

/// <summary>
/// A pipeline's transformer: built over its open checkpoint at once, or on first use (<see
/// cref="PipelineOptions.LoadTransformerAfterEncoding"/>), when a generation's prompts are encoded, so that on a GPU the
/// text encoder and the transformer need not hold device memory at the same time. Until then only the checkpoint's
/// header is read; the configuration is known from it.
/// </summary>
internal sealed class PipelineTransformer(SafeTensorsCheckpoint checkpoint, Flux2Config config, IBackend backend, PipelineOptions options) : IDisposable
{
    private SafeTensorsCheckpoint? _checkpoint = checkpoint;
    private TransformerVelocityModel? _model;

    /// <summary>The configuration inferred from the checkpoint (shapes, not the quantization plan's details).</summary>
    public Flux2Config Config { get; } = config;

    public bool IsLoaded => _model != null;

    /// <summary>The model, built now if it was not yet (which uploads the weights to a device backend).</summary>
    /// <exception cref="LoraException">a LoRA of the options does not fit the transformer</exception>
    public TransformerVelocityModel Model
    {
        get
        {
            if (_model != null) return _model;
            var checkpoint = _checkpoint ?? throw new ObjectDisposedException(nameof(PipelineTransformer));
            // The transformer owns the checkpoint once built; if building fails, this slot still closes it.
            _model = new TransformerVelocityModel(Flux2Transformer.FromCheckpoint(checkpoint, Config, backend, options.Loras, options.LenientLoraKeys));
            _checkpoint = null;
            return _model;
        }
    }

    public void Dispose()
    {
        _model?.Dispose();
        _checkpoint?.Dispose();
        _model = null;
        _checkpoint = null;
    }
}
