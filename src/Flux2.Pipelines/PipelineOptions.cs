using Flux2.Core;
using Flux2.Models.Lora;

namespace Flux2.Pipelines;

/// <summary>How a pipeline runs.</summary>
public sealed record PipelineOptions
{
    /// <summary>Free the text encoder after the first prompt is encoded (saves its memory during denoising for one-shot use).</summary>
    public bool ReleaseTextEncoderAfterUse { get; init; }

    /// <summary>Build the transformer when the first generation needs it, after that generation's prompts are encoded (and,
    /// with <see cref="ReleaseTextEncoderAfterUse"/>, the encoder released), instead of at load: on a GPU the text encoder
    /// and the transformer then never hold device memory together (FLUX.2-dev's 64 GB transformer and its Mistral encoder
    /// fit an 80 GB card one after the other). Only the checkpoint's header is read at load, so a damaged tensor or an
    /// unfitting LoRA is found by the first generation, before it makes any image.</summary>
    public bool LoadTransformerAfterEncoding { get; init; }

    /// <summary>Most images denoised together as one transformer batch: the images of a request, and on a server those of
    /// concurrent requests that can share a batch (<see cref="PreparedGeneration.CanShareBatchWith"/>). 1 (the default)
    /// denoises one image at a time, as the reference does; more raises throughput where one image leaves the device idle,
    /// at the cost of that many times the activation memory. A batch holds no more pixels than <see cref="MaxPixelsPerRequest"/>;
    /// generations with a cache always run one image at a time.</summary>
    public int MaxBatch
    {
        get => _maxBatch;
        init => _maxBatch = value is >= 1 and <= MaxBatchLimit ? value
            : throw new PipelineException($"the batch size must be in [1, {MaxBatchLimit}], got {value}");
    }

    public const int MaxBatchLimit = 64;
    private readonly int _maxBatch = 1;

    /// <summary>8192² pixels: one image of the largest size, or 64 of 1024².</summary>
    public const long DefaultMaxPixelsPerRequest = 8192L * 8192;

    /// <summary>Most output pixels one request may ask for, width × height × images (every prompt's included).</summary>
    public long MaxPixelsPerRequest { get; init; } = DefaultMaxPixelsPerRequest;

    /// <summary>LoRAs applied to the transformer (file and strength each), as a side path of the layers they adapt; the stored
    /// weights stay as they are.</summary>
    public IReadOnlyList<LoraFile> Loras { get; init; } = [];

    /// <summary>Where prompt embeddings are looked up before the text encoder runs and kept after it ran (null: nowhere).</summary>
    public PromptEmbeddingCache? PromptCache { get; init; }

    /// <summary>Where the text encoder runs when <see cref="Config.PipelineConfig.TextEncoderDevice"/> is not given and its weights
    /// would not fit in the free memory of the pipeline's device (a GPU) beside what is loaded before it, with
    /// <see cref="DeviceMemoryFit.ActivationReserve"/> left (see <see cref="Flux2Pipeline.LoadWarnings"/>); null: it loads on the
    /// pipeline's device regardless.</summary>
    public DeviceRef? TextEncoderFallbackDevice { get; init; }

    /// <summary>Skip LoRA tensors that adapt no layer of the transformer, with a load warning, instead of refusing the file.</summary>
    public bool LenientLoraKeys { get; init; }
}
