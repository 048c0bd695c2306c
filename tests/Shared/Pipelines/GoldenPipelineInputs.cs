using Flux2.Core.Backend;
using Flux2.Core.SafeTensors;
using Flux2.Pipelines;
using Flux2.Pipelines.Images;

namespace Flux2.Tests;

/// <summary>The inputs of the pipe_t2i / pipe_edit golden cases (golden README §4) as a request: the given prompt
/// embeddings and text ids, the given noise, the reference image if present; 128x96, 4 steps, guidance 4.</summary>
internal sealed class GoldenPipelineInputs : IDisposable
{
    private readonly PromptEmbedding _prompt;
    private readonly ReferenceImage[] _references;
    private readonly float[] _noise;

    /// <param name="backend">the backend of the pipeline the request goes to</param>
    public GoldenPipelineInputs(SafeTensorsFile io, IBackend backend)
    {
        var embeds = io.Get("inputs.prompt_embeds");
        _prompt = PromptEmbedding.Upload(backend, embeds.ToFloat32Array(), (int)embeds.Shape[1], (int)embeds.Shape[2], io.Get("inputs.text_ids").ToInt64Array());
        _references = io.Contains("inputs.reference_image_uint8.0") ? [Reference(io.Get("inputs.reference_image_uint8.0"))] : [];
        _noise = io.Get("inputs.noise").ToFloat32Array();
    }

    public GenerationRequest Request() => new()
    {
        PromptEmbedding = _prompt,
        Width = 128,
        Height = 96,
        Steps = 4,
        Guidance = 4.0,
        InitialLatents = _noise,
        ReferenceImages = _references,
    };

    private static ReferenceImage Reference(TensorView image) =>
        new("reference 0", new RgbImage((int)image.Shape[1], (int)image.Shape[0], image.AsSpan<byte>().ToArray()));

    public void Dispose() => _prompt.Dispose();
}
