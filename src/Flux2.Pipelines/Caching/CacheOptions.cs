using Flux2.Core.Backend;

namespace Flux2.Pipelines.Caching;

/// <summary>
/// A caching acceleration of the denoising loop (spec §10): <see cref="FirstBlockCacheOptions"/> or
/// <see cref="TaylorSeerOptions"/> (the internal members keep the set closed). A request holds at most one, so the two
/// are mutually exclusive; none is the default.
/// </summary>
public abstract record CacheOptions
{
    /// <summary>What is wrong with these options for a run of <paramref name="steps"/> steps (naming the option), or null;
    /// adds notices about how the cache will behave.</summary>
    /// <param name="forDev">whether the model is FLUX.2 [dev], the one the reference implements every cache for</param>
    internal abstract string? Check(int steps, bool forDev, List<string> notices);

    /// <summary>A fresh cache state for one guidance stream of one image.</summary>
    /// <param name="imageTokens">noisy image tokens L_img</param>
    /// <param name="channels">velocity channels per token</param>
    internal abstract IVelocityCache CreateStreamCache(IBackend backend, int imageTokens, int channels);
}
