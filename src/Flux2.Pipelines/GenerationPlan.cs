using System.Security.Cryptography;
using Flux2.Models.Lora;
using Flux2.Pipelines.Images;
using Flux2.Text;

namespace Flux2.Pipelines;

/// <summary>A validated request with every default filled in. Images are prompt-major: image k belongs to prompt
/// k / <see cref="ImagesPerPrompt"/> and has seed <see cref="Seeds"/>[k].</summary>
public sealed record GenerationPlan(
    int Width,
    int Height,
    int Steps,
    double Guidance,
    bool UseCfg,
    int PromptCount,
    int ImagesPerPrompt,
    IReadOnlyList<ulong> Seeds,
    IReadOnlyList<string> Notices)
{
    public const int DefaultSize = 1024;
    public const int MaxSide = 8192;
    public const int MaxImages = 256;
    /// <summary>Longest prompt read, in UTF-16 characters, checked before tokenizing: far more than the 512 tokens the text
    /// encoder sees (the rest is cut off after tokenizing), far less than what would hold a generation slot for long.</summary>
    public const int MaxPromptCharacters = 65_536;

    /// <summary>The LoRAs the transformer runs with (see <see cref="GenerationRequest.Loras"/>).</summary>
    public IReadOnlyList<LoraFile> Loras { get; init; } = [];

    public int GridHeight => Height / 16;
    public int GridWidth => Width / 16;
    public int ImageTokens => GridHeight * GridWidth;

    /// <summary>The prompt image <paramref name="image"/> belongs to.</summary>
    public int PromptIndex(int image) => image / ImagesPerPrompt;

    /// <summary>Checks <paramref name="request"/> against <paramref name="variant"/> and fills in the defaults.</summary>
    /// <param name="firstReferenceSize">processed size of the first reference image, the default output size</param>
    /// <param name="maxPixels">most output pixels (width × height × images) the request may ask for</param>
    public static GenerationPlan Resolve(GenerationRequest request, PipelineVariant variant, (int Width, int Height)? firstReferenceSize,
        long maxPixels = PipelineOptions.DefaultMaxPixelsPerRequest)
    {
        var notices = new List<string>();
        int prompts = CountPrompts(request);
        if (request.NumImages < 1 || (long)request.NumImages * prompts > MaxImages)
            throw new PipelineException(prompts == 1
                ? $"the number of images must be in [1, {MaxImages}], got {request.NumImages}"
                : $"{prompts} prompts × {request.NumImages} images exceed the {MaxImages} images one request may make");
        if (request.MaxReferenceImages is { } maxRefs && request.ReferenceImages.Count > maxRefs)
            throw new PipelineException($"{request.ReferenceImages.Count} reference images given; at most {maxRefs} are allowed");

        int width = Side("width", nameof(GenerationRequest.Width), request.Width ?? firstReferenceSize?.Width ?? DefaultSize, request.FloorSizeToMultipleOf16);
        int height = Side("height", nameof(GenerationRequest.Height), request.Height ?? firstReferenceSize?.Height ?? DefaultSize, request.FloorSizeToMultipleOf16);
        long pixels = (long)width * height * prompts * request.NumImages;
        if (pixels > maxPixels)
            throw new PipelineException($"{prompts * request.NumImages} image(s) of {width}x{height} are {pixels} pixels, more than the " +
                $"{maxPixels}-pixel budget of one request", nameof(GenerationRequest.Width)); // the size: the larger of the two knobs

        int steps = request.Steps ?? variant.DefaultSteps();
        if (steps < 1) throw new PipelineException($"steps must be at least 1, got {steps}");
        if (variant.TrainedSteps() is int trained && steps != trained && !request.AllowAnyStepCount)
            throw new PipelineException($"the distilled klein model is trained for exactly {trained} steps, got {steps} (set AllowAnyStepCount, flux2 generate --allow-any-steps, to run anyway)");

        if (request.Cache?.Check(steps, variant == PipelineVariant.Dev, notices) is { } cacheProblem) throw new PipelineException(cacheProblem);
        if (request.Cache != null && variant == PipelineVariant.KleinKv && firstReferenceSize != null)
            throw new PipelineException("klein-kv computes its reference images' keys and values once and reads them at every later step; " +
                "a step cache (First-Block-Cache, TaylorSeer) does not run with reference images on this model", nameof(GenerationRequest.Cache));

        double guidance = request.Guidance ?? PipelineVariantExtensions.DefaultGuidance;
        if (!double.IsFinite(guidance) || guidance < 0) throw new PipelineException($"guidance must be a finite number ≥ 0, got {guidance}");
        bool useCfg = variant == PipelineVariant.KleinBase && guidance > 1;
        if (variant.TrainedSteps() != null && request.Guidance != null)
            notices.Add("the distilled klein model has no guidance; --guidance is ignored");
        CheckPrompt("the negative prompt", request.NegativePrompt);
        bool hasNegative = request.NegativePrompt != null || request.NegativePromptEmbedding != null;
        if (hasNegative && variant != PipelineVariant.KleinBase)
            throw new PipelineException($"a negative prompt is used only by klein-base (classifier-free guidance); this model is {variant.DisplayName()}",
                nameof(GenerationRequest.NegativePrompt));
        if (hasNegative && !useCfg)
            notices.Add($"guidance {guidance} ≤ 1 turns classifier-free guidance off; the negative prompt is not used");

        if (request.NegativePromptEmbedding is { Count: var negatives } && negatives != 1 && negatives != prompts)
            throw new PipelineException($"{negatives} negative prompt embeddings for {prompts} prompts; give one, or one per prompt");

        ulong firstSeed = request.Seed ?? RandomSeed();
        int images = prompts * request.NumImages;
        var seeds = Enumerable.Range(0, images).Select(k => unchecked(firstSeed + (ulong)k)).ToArray();

        var plan = new GenerationPlan(width, height, steps, guidance, useCfg, prompts, request.NumImages, seeds, notices);
        if (request.InitialLatents is { } latents && latents.Length != (long)images * 128 * plan.ImageTokens)
            throw new PipelineException(
                $"initial latents hold {latents.Length} values; [{images}, 128, {plan.GridHeight}, {plan.GridWidth}] needs {(long)images * 128 * plan.ImageTokens}");
        return plan;
    }

    /// <summary>How many prompts the request gives: one text prompt, a list, or the batch of its embeddings.</summary>
    private static int CountPrompts(GenerationRequest request)
    {
        int given = (request.Prompt != null ? 1 : 0) + (request.Prompts != null ? 1 : 0) + (request.PromptEmbedding != null ? 1 : 0);
        if (given > 1) throw new PipelineException("give one of a prompt, a list of prompts or prompt embeddings, not several");
        if (request.PromptEmbedding is { } embedding) return embedding.Count;
        var prompts = request.Prompts ?? (request.Prompt != null ? [request.Prompt] : []);
        if (prompts.Count == 0) throw new PipelineException("the prompt must not be empty");
        for (int i = 0; i < prompts.Count; i++)
        {
            string what = prompts.Count == 1 ? "the prompt" : $"prompt {i + 1} of {prompts.Count}";
            if (string.IsNullOrEmpty(prompts[i])) throw new PipelineException(prompts.Count == 1 ? "the prompt must not be empty" : $"{what} is empty");
            CheckPrompt(what, prompts[i]);
        }
        return prompts.Count;
    }

    private static void CheckPrompt(string what, string? prompt)
    {
        if (prompt != null && PromptProblem(prompt) is { } problem) throw new PipelineException($"{what} {problem}");
    }

    /// <summary>Why <paramref name="prompt"/> cannot be used, as words that follow its name ("is 70000 characters long,
    /// ..."), or null when it can: too long, or holding a character the images' metadata could not give back as it was.</summary>
    public static string? PromptProblem(string prompt)
    {
        if (prompt.Length > MaxPromptCharacters)
            return $"is {prompt.Length} characters long, more than the {MaxPromptCharacters} read " +
                $"(the text encoder sees its first {PromptTokenizer.DefaultMaxLength} tokens)";
        int bad = XmpPacket.IndexOfUnstorable(prompt);
        return bad < 0 ? null : $"holds U+{(int)prompt[bad]:X4} at character {bad + 1}, which image metadata cannot store " +
            "(control characters other than tab, line feed and carriage return; unpaired surrogates; U+FFFE, U+FFFF)";
    }

    /// <summary>A seed for a request that gives none: 64 random bits.</summary>
    public static ulong RandomSeed() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    private static int Side(string name, string field, int value, bool floor)
    {
        if (floor) value = value / 16 * 16;
        if (value % 16 != 0) throw new PipelineException($"{name} {value} is not a multiple of 16", field);
        if (value < 16 || value > MaxSide) throw new PipelineException($"{name} {value} is outside [16, {MaxSide}]", field);
        return value;
    }
}
