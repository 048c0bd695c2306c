using Flux2.Core.Backend;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu;

/// <summary>The CPU implementation of <see cref="IBackend"/>: fp32 activations, weights decoded in the GEMM.
/// Ops are implemented in partial files beside this one (CpuBackend.*.cs), each over the kernels in this project.</summary>
public sealed partial class CpuBackend : IBackend
{
    public CpuBackend(ComputePool? pool = null)
    {
        Pool = pool ?? ComputePool.Shared;
    }

    public ComputePool Pool { get; }

    public string Name => $"cpu ({Pool.ThreadCount} threads)";
}
