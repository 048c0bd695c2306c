using System.Text.Json;

namespace Flux2.Models.Checkpoints;

/// <summary>What a diffusers scheduler_config.json must say for FLUX.2. Its values are not used (the sampler computes its
/// shift from the image size), but a config describing another sampler means the folder is not what it claims to be.</summary>
public static class SchedulerConfigRules
{
    /// <summary>The first rule <paramref name="root"/> breaks, as a phrase, or null when it keeps them all.</summary>
    public static string? Problem(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) return "not a JSON object";
        if (root.TryGetProperty("_class_name", out var cls) && cls.ValueKind == JsonValueKind.String && cls.GetString() != "FlowMatchEulerDiscreteScheduler")
            return $"scheduler '{cls.GetString()}' is not FlowMatchEulerDiscreteScheduler, the one FLUX.2 uses";
        if (root.TryGetProperty("use_dynamic_shifting", out var dynamic) && dynamic.ValueKind == JsonValueKind.False)
            return "use_dynamic_shifting is false; FLUX.2 shifts its schedule by the image size";
        return null;
    }
}
