namespace Flux2.Pipelines.Images;

/// <summary>How many pixels a reference image may keep before it is downscaled (spec §9.7).</summary>
public enum ReferenceCapPolicy
{
    /// <summary>diffusers: 1024² for every reference (the default).</summary>
    Diffusers,
    /// <summary>BFL reference code: 2024² when there is exactly one reference, 1024² each when there are more.</summary>
    Bfl,
}

public static class ReferenceCapPolicyExtensions
{
    public static long CapPixels(this ReferenceCapPolicy policy, int referenceCount) =>
        policy == ReferenceCapPolicy.Bfl && referenceCount == 1 ? 2024L * 2024 : 1024L * 1024;
}
