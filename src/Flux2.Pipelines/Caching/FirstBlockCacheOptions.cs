namespace Flux2.Pipelines.Caching;

/// <summary>First-Block-Cache (spec §10.1): reuse the previous step's velocity while double block 0's residual barely changes.</summary>
public sealed record FirstBlockCacheOptions : CacheOptions
{
    public const double DefaultThreshold = 0.05;

    /// <summary>A step reuses the cache when the relative change of the first block's residual is below this (≥ 0; 0 never reuses).</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    internal override void Check(PipelineVariant variant, int steps, List<string> notices)
    {
        if (!double.IsFinite(Threshold) || Threshold < 0)
            throw new PipelineException($"the First-Block-Cache threshold must be a finite number ≥ 0, got {Threshold}");
        if (variant != PipelineVariant.Dev)
            notices.Add($"First-Block-Cache is experimental for {variant.DisplayName()} (the reference implements it for dev only)");
    }

    internal override IVelocityCache CreateStreamCache(int imageTokens, int velocityLength) =>
        new FirstBlockCache(Threshold, imageTokens, velocityLength);
}
