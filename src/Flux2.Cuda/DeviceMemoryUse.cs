namespace Flux2.Cuda;

/// <summary>A backend's device memory at one moment, in bytes: what its tensors and weights hold, what its pool keeps cached
/// for reuse, the most it ever held, and the driver's free and total memory of the device (all processes).</summary>
public readonly record struct DeviceMemoryUse(long InUse, long Cached, long Peak, long DeviceFree, long DeviceTotal);
