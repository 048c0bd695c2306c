using Flux2.Pipelines.Caching;

namespace Flux2.Cli;

/// <summary>The caching options of <c>flux2 generate</c>: <c>--cache none|fbcache|taylorseer</c> with the settings of the chosen one.</summary>
internal static class GenerateCacheOptions
{
    private const int MaxSteps = 10_000;

    /// <summary>The cache the options select, or null for none; a setting of a cache that is not selected is an error.</summary>
    public static CacheOptions? Parse(CommandArgs o)
    {
        var mode = o.Optional("cache") ?? "none";
        double? threshold = o.OptionalDouble("cache-threshold");
        int? interval = o.OptionalInt("taylorseer-interval", 1, MaxSteps);
        int? warmup = o.OptionalInt("taylorseer-warmup", 1, MaxSteps);
        int? order = o.OptionalInt("taylorseer-order", 1, 2);
        if (threshold < 0) throw new CliException($"option --cache-threshold: {threshold} is negative");

        string? fbcacheSetting = threshold != null ? "--cache-threshold" : null;
        string? taylorSeerSetting = interval != null ? "--taylorseer-interval" : warmup != null ? "--taylorseer-warmup"
            : order != null ? "--taylorseer-order" : null;
        switch (mode)
        {
            case "none":
                Reject(fbcacheSetting ?? taylorSeerSetting, fbcacheSetting != null ? "fbcache" : "taylorseer");
                return null;
            case "fbcache":
                Reject(taylorSeerSetting, "taylorseer");
                return new FirstBlockCacheOptions { Threshold = threshold ?? FirstBlockCacheOptions.DefaultThreshold };
            case "taylorseer":
                Reject(fbcacheSetting, "fbcache");
                return new TaylorSeerOptions
                {
                    Interval = interval ?? TaylorSeerOptions.DefaultInterval,
                    Warmup = warmup ?? TaylorSeerOptions.DefaultWarmup,
                    MaxOrder = order ?? TaylorSeerOptions.DefaultMaxOrder,
                };
            default:
                throw new CliException($"option --cache: '{mode}' is not one of none, fbcache, taylorseer");
        }
    }

    private static void Reject(string? setting, string mode)
    {
        if (setting != null) throw new CliException($"option {setting} applies only to --cache {mode}");
    }
}
