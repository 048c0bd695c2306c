namespace Flux2.Core.Backend;

/// <summary>A backend's device memory at one moment, in bytes: what its tensors and weights hold, what its allocator keeps
/// cached for reuse, the most it ever held, and the device's free and total memory (all processes).</summary>
public readonly record struct DeviceMemoryUse(long InUse, long Cached, long Peak, long DeviceFree, long DeviceTotal);

/// <summary>A backend whose memory is a device's own (a GPU's), which it can report: for <c>/health</c> and the benchmarks.</summary>
public interface IDeviceMemoryReport
{
    DeviceMemoryUse Memory { get; }
}
