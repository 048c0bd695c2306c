using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;
using Flux2.Cpu.Threading;
using Flux2.Cuda;

namespace Flux2.Backends;

/// <summary>The backends of this build, by device: the one place that knows them. Front ends hand it to
/// <c>Flux2Pipeline.Load</c> (or create a backend for a lone component through it) and never construct a backend themselves.</summary>
public sealed class BackendFactory(BackendOptions? options = null) : IBackendFactory
{
    private readonly BackendOptions _options = options ?? new BackendOptions();

    public IBackend Create(DeviceRef device)
    {
        var precision = _options.Precision ?? ComputePrecision.BFloat16;
        switch (device.Kind)
        {
            case DeviceKind.Cpu when device.Id == 0:
                if (_options.CpuThreads is not { } threads) return new CpuBackend(precision: precision);
                if (threads < 1) throw new BackendUnavailableException($"the CPU backend needs at least one thread, got {threads}");
                return new CpuBackend(new ComputePool(threads), ownsPool: true, precision);
            case DeviceKind.Cpu:
                throw new BackendUnavailableException($"{device}: the CPU backend runs on cpu:0 only");
            default:
                try
                {
                    return CudaBackend.Create(device.Id, precision);
                }
                catch (Exception e) when (e is BackendUnavailableException or CudaException)
                {
                    throw new BackendUnavailableException($"{device}: {e.Message}");
                }
        }
    }

    /// <summary>What a GPU and the CUDA libraries are on this machine (<c>flux2 info --device cuda</c>), with the one-line
    /// reason the CUDA backend cannot run there, or null.</summary>
    public static CudaDiagnostics DescribeGpu(DeviceRef device) => CudaDiagnostics.Describe(device.Id);
}
