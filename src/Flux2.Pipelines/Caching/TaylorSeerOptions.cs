using Flux2.Core.Backend;

namespace Flux2.Pipelines.Caching;

/// <summary>TaylorSeer (spec §10.2): full model passes during a warm-up and then every <see cref="Interval"/> steps;
/// the steps in between extrapolate the velocity with a first- or second-order Taylor series.</summary>
public sealed record TaylorSeerOptions : CacheOptions
{
    public const int DefaultInterval = 5, DefaultWarmup = 9, DefaultMaxOrder = 1;

    /// <summary>After the warm-up, one full pass every this many steps (≥ 1).</summary>
    public int Interval { get; init; } = DefaultInterval;

    /// <summary>Steps 0 … Warmup − 1 always run the model (≥ 1: step 0 has nothing to extrapolate from).</summary>
    public int Warmup { get; init; } = DefaultWarmup;

    /// <summary>1 (velocity and its first difference) or 2 (plus the second difference).</summary>
    public int MaxOrder { get; init; } = DefaultMaxOrder;

    /// <summary>Whether <paramref name="step"/> (0-based) runs the model: during the warm-up, then when
    /// (step − Warmup − 1) mod Interval = 0 with floor modulo, so with the defaults step 9 is extrapolated and 10 computed.</summary>
    public bool Computes(int step) => step < Warmup || FloorMod(step - Warmup - 1, Interval) == 0;

    internal override string? Check(int steps, bool forDev, List<string> notices)
    {
        if (Interval < 1) return $"the TaylorSeer interval must be at least 1, got {Interval}";
        if (Warmup < 1) return $"the TaylorSeer warm-up must be at least 1 step (step 0 has nothing to extrapolate from), got {Warmup}";
        if (MaxOrder is not (1 or 2)) return $"the TaylorSeer order must be 1 or 2, got {MaxOrder}";
        if (Warmup >= steps) notices.Add($"TaylorSeer warm-up {Warmup} covers all {steps} steps; every step runs the full model");
        return null;
    }

    internal override IVelocityCache CreateStreamCache(IBackend backend, int imageTokens, int channels) =>
        new TaylorSeerCache(backend, this, imageTokens, channels);

    /// <summary>Python's %: the result has the divisor's sign, so −1 mod 5 = 4.</summary>
    private static int FloorMod(int value, int divisor) => ((value % divisor) + divisor) % divisor;
}
