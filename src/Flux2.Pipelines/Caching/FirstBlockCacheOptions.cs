using Flux2.Core.Backend;

namespace Flux2.Pipelines.Caching;

/// <summary>First-Block-Cache (spec §10.1): reuse the previous step's velocity while double block 0's residual barely changes.</summary>
public sealed record FirstBlockCacheOptions : CacheOptions
{
    public const double DefaultThreshold = 0.05;

    /// <summary>A step reuses the cache when the relative change of the first block's residual is below this (≥ 0; 0 never reuses).</summary>
    public double Threshold { get; init; } = DefaultThreshold;

    internal override string? Check(int steps, bool forDev, List<string> notices)
    {
        if (!double.IsFinite(Threshold) || Threshold < 0)
            return $"the First-Block-Cache threshold must be a finite number ≥ 0, got {Threshold}";
        if (!forDev) notices.Add("First-Block-Cache is experimental for klein (the reference implements it for dev only)");
        return null;
    }

    internal override IVelocityCache CreateStreamCache(IBackend backend, int imageTokens, int channels) =>
        new FirstBlockCache(backend, Threshold, imageTokens, channels);
}
