using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu;

/// <summary>The CPU implementation of <see cref="IBackend"/>: fp32 activations in host memory, weights left memory-mapped
/// and decoded in the GEMM (in fp32, or in bf16 with <see cref="ComputePrecision.BFloat16"/>), ops run synchronously on the
/// compute pool. Ops are implemented in partial files beside this
/// one (CpuBackend.*.cs), each over the kernels in this project. Any host tensor is accepted; memory of another device is
/// refused by the host-access checks of <see cref="Tensor"/>.</summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    private readonly bool _ownsPool;
    private readonly Bf16MicroKernel? _bf16;

    /// <param name="pool">the compute pool; default the process-wide shared one</param>
    /// <param name="ownsPool">dispose <paramref name="pool"/> with the backend</param>
    /// <param name="precision">what the matrix products compute in; BFloat16 where the processor runs it, else Float32</param>
    public CpuBackend(ComputePool? pool = null, bool ownsPool = false, ComputePrecision precision = ComputePrecision.Float32)
        : this(pool, ownsPool, precision, Bf16MicroKernel.Available)
    {
    }

    /// <param name="bf16Kernel">the bf16 kernel this processor runs, or null (tests pass null to take the fallback)</param>
    internal CpuBackend(ComputePool? pool, bool ownsPool, ComputePrecision precision, Bf16MicroKernel? bf16Kernel)
    {
        Pool = pool ?? ComputePool.Shared;
        _ownsPool = pool != null && ownsPool;
        _bf16 = precision == ComputePrecision.BFloat16 ? bf16Kernel : null;
        Precision = _bf16 != null ? ComputePrecision.BFloat16 : ComputePrecision.Float32;
    }

    public ComputePool Pool { get; }

    /// <summary>The precision the products run in: the one asked for, or Float32 where bf16 is not available.</summary>
    public ComputePrecision Precision { get; }

    public string Name => $"cpu ({Pool.ThreadCount} threads{(Precision == ComputePrecision.BFloat16 ? ", bf16 products" : "")})";

    public DeviceRef Device => DeviceRef.Cpu();

    public DType ActivationDType => DType.Float32;

    public Tensor Allocate(DType dtype, params int[] shape) => Tensor.Zeros(dtype, shape);

    public void Upload(ReadOnlySpan<byte> source, Tensor destination)
    {
        if (source.Length != destination.ByteLength)
            throw new ArgumentException($"{source.Length} bytes do not fill {destination.DType} {destination.ShapeText}", nameof(source));
        source.CopyTo(new Span<byte>((void*)destination.Data, source.Length));
    }

    public void Download(Tensor source, Span<byte> destination)
    {
        if (destination.Length != source.ByteLength)
            throw new ArgumentException($"{destination.Length} bytes cannot hold {source.DType} {source.ShapeText}", nameof(destination));
        new ReadOnlySpan<byte>((void*)source.Data, destination.Length).CopyTo(destination);
    }

    /// <summary>Every op has finished when it returns.</summary>
    public void Synchronize() { }

    /// <summary>The compute pool stops handing out work items of a cancelled call; GEMM tasks also poll between blocks.</summary>
    public IDisposable ObserveCancellation(CancellationToken cancellation) => ComputePool.ObserveCancellation(cancellation);

    public void Dispose()
    {
        if (_ownsPool) Pool.Dispose();
    }

    /// <summary>The stored bytes are used in place (memory-mapped, decoded while the GEMM packs its panels).</summary>
    public LinearWeight LoadLinear(LinearWeight stored) =>
        stored.IsHostAccessible ? stored : throw new ArgumentException($"{stored.Name}: the weight lives in another device's memory", nameof(stored));
}
