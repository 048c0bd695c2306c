using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu;

namespace Flux2.Testing;

/// <summary>The backends golden tests run through: the CPU backend, and the opaque backend that keeps the contract honest.</summary>
public static class TestBackends
{
    public const string Cpu = "cpu";
    public const string Opaque = "opaque";
    /// <summary>The CPU backend with bf16 products (where the processor has them): the reduced-precision path.</summary>
    public const string CpuBf16 = "cpu-bf16";

    public static IReadOnlyList<string> Names { get; } = [Cpu, Opaque];

    public static IBackend Create(string name) => name switch
    {
        Cpu => new CpuBackend(),
        Opaque => new OpaqueBackend(new CpuBackend()),
        CpuBf16 => new CpuBackend(precision: ComputePrecision.BFloat16),
        _ => throw new ArgumentException($"unknown test backend '{name}'", nameof(name)),
    };

    /// <summary>A factory giving the named backend for the CPU device, for code that composes its own pipeline.</summary>
    public static IBackendFactory Factory(string name) => new NamedFactory(name);

    /// <summary>The CPU backend for the CPU device and the opaque backend for its simulated GPU (<c>cuda:7</c>): a pipeline split
    /// over two devices (<c>PipelineConfig.TextEncoderDevice</c>), whose tensors must cross between them. With
    /// <paramref name="gpuFreeBytes"/>, the simulated GPU reports that much free memory, as a GPU backend does.</summary>
    public static IBackendFactory TwoDevices(long? gpuFreeBytes = null) => new TwoDeviceFactory(gpuFreeBytes);

    private sealed class TwoDeviceFactory(long? gpuFreeBytes) : IBackendFactory
    {
        public IBackend Create(DeviceRef device)
        {
            if (device == DeviceRef.Cpu()) return new CpuBackend();
            if (device != OpaqueBackend.SimulatedDevice)
                throw new BackendUnavailableException($"{device}: tests run on the CPU and the opaque backend's {OpaqueBackend.SimulatedDevice}");
            var gpu = new OpaqueBackend(new CpuBackend());
            return gpuFreeBytes is { } free ? new MemoryReporting(gpu, free) : gpu;
        }
    }

    private sealed class MemoryReporting(IBackend inner, long free) : DelegatingBackend(inner), IDeviceMemoryReport
    {
        public DeviceMemoryUse Memory => new(InUse: 0, Cached: 0, Peak: 0, DeviceFree: free, DeviceTotal: free);
    }

    private sealed class NamedFactory(string name) : IBackendFactory
    {
        public IBackend Create(DeviceRef device) =>
            device == DeviceRef.Cpu() ? TestBackends.Create(name) : throw new BackendUnavailableException($"{device}: tests run on the CPU");
    }
}
