using System.Security.Cryptography;

namespace Flux2.Pipelines;

/// <summary>A validated request with every default filled in.</summary>
public sealed record GenerationPlan(
    int Width,
    int Height,
    int Steps,
    double Guidance,
    bool UseCfg,
    IReadOnlyList<ulong> Seeds,
    IReadOnlyList<string> Notices)
{
    public const int DefaultSize = 1024;
    public const int MaxSide = 8192;
    public const int MaxImages = 256;

    public int GridHeight => Height / 16;
    public int GridWidth => Width / 16;
    public int ImageTokens => GridHeight * GridWidth;

    /// <summary>Checks <paramref name="request"/> against <paramref name="variant"/> and fills in the defaults.</summary>
    /// <param name="firstReferenceSize">processed size of the first reference image, the default output size</param>
    public static GenerationPlan Resolve(GenerationRequest request, PipelineVariant variant, (int Width, int Height)? firstReferenceSize)
    {
        var notices = new List<string>();
        if (request.PromptEmbedding == null && string.IsNullOrEmpty(request.Prompt))
            throw new PipelineException("the prompt must not be empty");
        if (request.NumImages is < 1 or > MaxImages)
            throw new PipelineException($"the number of images must be in [1, {MaxImages}], got {request.NumImages}");
        if (request.MaxReferenceImages is { } maxRefs && request.ReferenceImages.Count > maxRefs)
            throw new PipelineException($"{request.ReferenceImages.Count} reference images given; at most {maxRefs} are allowed");

        int width = Side("width", request.Width ?? firstReferenceSize?.Width ?? DefaultSize, request.FloorSizeToMultipleOf16);
        int height = Side("height", request.Height ?? firstReferenceSize?.Height ?? DefaultSize, request.FloorSizeToMultipleOf16);

        int steps = request.Steps ?? variant.DefaultSteps();
        if (steps < 1) throw new PipelineException($"steps must be at least 1, got {steps}");
        if (variant.TrainedSteps() is int trained && steps != trained && !request.AllowAnyStepCount)
            throw new PipelineException($"the distilled klein model is trained for exactly {trained} steps, got {steps} (set AllowAnyStepCount, flux2 generate --allow-any-steps, to run anyway)");

        if (request.Cache?.Check(steps, variant == PipelineVariant.Dev, notices) is { } cacheProblem) throw new PipelineException(cacheProblem);

        double guidance = request.Guidance ?? PipelineVariantExtensions.DefaultGuidance;
        if (!double.IsFinite(guidance) || guidance < 0) throw new PipelineException($"guidance must be a finite number ≥ 0, got {guidance}");
        bool useCfg = variant == PipelineVariant.KleinBase && guidance > 1;
        if (variant == PipelineVariant.KleinDistilled && request.Guidance != null)
            notices.Add("the distilled klein model has no guidance; --guidance is ignored");
        bool hasNegative = request.NegativePrompt != null || request.NegativePromptEmbedding != null;
        if (hasNegative && variant != PipelineVariant.KleinBase)
            throw new PipelineException($"a negative prompt is used only by klein-base (classifier-free guidance); this model is {variant.DisplayName()}");
        if (hasNegative && !useCfg)
            notices.Add($"guidance {guidance} ≤ 1 turns classifier-free guidance off; the negative prompt is not used");

        ulong firstSeed = request.Seed ?? RandomSeed();
        var seeds = Enumerable.Range(0, request.NumImages).Select(k => unchecked(firstSeed + (ulong)k)).ToArray();

        var plan = new GenerationPlan(width, height, steps, guidance, useCfg, seeds, notices);
        if (request.InitialLatents is { } latents && latents.Length != (long)request.NumImages * 128 * plan.ImageTokens)
            throw new PipelineException(
                $"initial latents hold {latents.Length} values; [{request.NumImages}, 128, {plan.GridHeight}, {plan.GridWidth}] needs {(long)request.NumImages * 128 * plan.ImageTokens}");
        return plan;
    }

    /// <summary>A seed for a request that gives none: 64 random bits.</summary>
    public static ulong RandomSeed() => BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));

    private static int Side(string name, int value, bool floor)
    {
        if (floor) value = value / 16 * 16;
        if (value % 16 != 0) throw new PipelineException($"{name} {value} is not a multiple of 16");
        if (value < 16 || value > MaxSide) throw new PipelineException($"{name} {value} is outside [16, {MaxSide}]");
        return value;
    }
}
