namespace Flux2.Cuda;

/// <summary>The GPU time of one kind of op over a profile (<see cref="CudaBackend.StartProfile"/>): a kernel by name, or a
/// cuBLASLt product by its types and shape, how often it ran and the milliseconds between the events around its calls.</summary>
public sealed record GpuOpTime(string Name, int Calls, double Milliseconds);
