using Flux2.Models.Lora;
using Flux2.Pipelines.Caching;
using Flux2.Pipelines.Images;

namespace Flux2.Pipelines;

/// <summary>What to generate. Unset values take the model's defaults (spec §9.8); <see cref="GenerationPlan.Resolve"/>
/// validates everything before any heavy work starts.</summary>
public sealed record GenerationRequest
{
    /// <summary>The prompt; required unless <see cref="Prompts"/> or <see cref="PromptEmbedding"/> is given.</summary>
    public string? Prompt { get; init; }

    /// <summary>Several different prompts in one call (diffusers' <c>prompt=[...]</c>): <see cref="NumImages"/> images each,
    /// prompt-major, image i with seed <see cref="Seed"/> + i. Used instead of <see cref="Prompt"/>.</summary>
    public IReadOnlyList<string>? Prompts { get; init; }

    /// <summary>klein-base only: the negative prompt of classifier-free guidance (default "").</summary>
    public string? NegativePrompt { get; init; }

    /// <summary>Reject a prompt longer than the text encoder's 512 tokens instead of truncating it (with a notice), as the
    /// reference does.</summary>
    public bool StrictPromptLength { get; init; }

    /// <summary>Precomputed text-encoder output used instead of encoding <see cref="Prompt"/> (parity tests, caching); a batch of
    /// B embeddings acts as B prompts.</summary>
    public PromptEmbedding? PromptEmbedding { get; init; }

    /// <summary>Precomputed negative embedding for klein-base, one for every prompt or one per prompt; default: the encoded
    /// <see cref="NegativePrompt"/>.</summary>
    public PromptEmbedding? NegativePromptEmbedding { get; init; }

    /// <summary>Output size in pixels; both default to the first reference image's processed size, else 1024.</summary>
    public int? Width { get; init; }
    public int? Height { get; init; }

    /// <summary>Round sizes down to multiples of 16 (as diffusers does) instead of rejecting them.</summary>
    public bool FloorSizeToMultipleOf16 { get; init; }

    /// <summary>Denoising steps; default per model: dev 50, klein 4, klein-base 50.</summary>
    public int? Steps { get; init; }

    /// <summary>Lets the distilled klein model run a step count other than 4 (which it was not trained for).</summary>
    public bool AllowAnyStepCount { get; init; }

    /// <summary>dev: embedded guidance; klein-base: CFG scale (CFG runs when &gt; 1); distilled klein: ignored. Default 4.</summary>
    public double? Guidance { get; init; }

    /// <summary>Seed of image 0; image k uses seed + k. Random when not set; the seeds used are in the result.</summary>
    public ulong? Seed { get; init; }

    /// <summary>Images per prompt.</summary>
    public int NumImages { get; init; } = 1;

    /// <summary>Injected initial noise instead of the seeded generator: [prompts · NumImages, 128, H/16, W/16], normalised latent space.</summary>
    public float[]? InitialLatents { get; init; }

    public IReadOnlyList<ReferenceImage> ReferenceImages { get; init; } = [];

    public ReferenceCapPolicy ReferenceCap { get; init; } = ReferenceCapPolicy.Diffusers;

    /// <summary>Most reference images accepted; null: no limit.</summary>
    public int? MaxReferenceImages { get; init; }

    /// <summary>The LoRAs of this generation, in place of the pipeline's (<see cref="PipelineOptions.Loras"/>); null: those.
    /// LoRAs other than the previous generation's are read and swapped into the transformer's side paths before denoising
    /// (the stored weights stay as they are).</summary>
    public IReadOnlyList<LoraFile>? Loras { get; init; }

    /// <summary>Caching acceleration of the denoising loop: <see cref="FirstBlockCacheOptions"/> or <see cref="TaylorSeerOptions"/>
    /// (spec §10); null (the default) runs the full model at every step.</summary>
    public CacheOptions? Cache { get; init; }

    /// <summary>Called after every denoising step (progress, tracing).</summary>
    public Action<DenoiseStep>? OnStep { get; init; }

    /// <summary>Called with each image as soon as it is decoded, before the next one is denoised (e.g. to save it at once,
    /// so a cancelled run keeps the finished images).</summary>
    public Action<GeneratedImage, GenerationPlan>? OnImage { get; init; }

    /// <summary>Called with notices about options the model ignores or adjusts (e.g. guidance for a distilled model).</summary>
    public Action<string>? OnNotice { get; init; }
}
