namespace Flux2.Pipelines.Caching;

/// <summary>
/// A caching acceleration of the denoising loop (spec §10): <see cref="FirstBlockCacheOptions"/> or
/// <see cref="TaylorSeerOptions"/> (the internal members keep the set closed). A request holds at most one, so the two
/// are mutually exclusive; none is the default.
/// </summary>
public abstract record CacheOptions
{
    /// <summary>Rejects values out of range (naming the option) and adds notices about how the cache will behave.</summary>
    internal abstract void Check(PipelineVariant variant, int steps, List<string> notices);

    /// <summary>A fresh cache state for one guidance stream of one image.</summary>
    /// <param name="imageTokens">noisy image tokens L_img</param>
    /// <param name="velocityLength">L_img · channels, the values of the stream's velocity</param>
    internal abstract IVelocityCache CreateStreamCache(int imageTokens, int velocityLength);
}
