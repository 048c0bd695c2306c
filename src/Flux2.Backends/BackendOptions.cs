using Flux2.Core.Backend;

namespace Flux2.Backends;

/// <summary>How the backends this build knows are set up (the knobs a user gives on the command line or to the server).</summary>
public sealed record BackendOptions
{
    /// <summary>Threads of the CPU backend's compute pool; null: one per processor, shared by the whole process.</summary>
    public int? CpuThreads { get; init; }

    /// <summary>What the products compute in; null: each backend's fast default, bf16 products where the hardware has them
    /// (on the CPU: AVX512_BF16; elsewhere fp32).</summary>
    public ComputePrecision? Precision { get; init; }
}
