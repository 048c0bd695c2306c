namespace Flux2.Core.Backend;

/// <summary>
/// The compute operations models are written against, and the memory they run on. Models hold tensors and call these
/// ops; they never touch intrinsics, pointers, threads or tensor elements. Ops are grouped by domain in partial files
/// (IBackend.*.cs); every op works on preallocated tensors and allocates nothing.
/// <para>The contract: the backend owns its memory. Tensors passed to ops were allocated by the same backend
/// (<see cref="Allocate"/>), or are views of such tensors. Ops may run asynchronously, in the order they were called;
/// their results become observable only through <see cref="Download"/> (which waits for the ops before it) or after
/// <see cref="Synchronize"/>. Host data enters only through <see cref="Upload"/>, which takes its copy before returning,
/// so the caller may reuse its buffer at once. Disposing a tensor after calling ops on it is allowed: the memory is
/// released once those ops are done. Disposing the backend releases what it holds (a device context, a thread pool it
/// created); tensors and weights are disposed by their owners before that.</para>
/// </summary>
public partial interface IBackend : IDisposable
{
    string Name { get; }

    /// <summary>Where this backend's memory lives and its ops run.</summary>
    DeviceRef Device { get; }

    /// <summary>The element type this backend computes activations in: Float32 on the CPU, BFloat16 in a GPU's fast mode.
    /// Latents, the velocity and the sampler's state stay Float32 on every backend.</summary>
    DType ActivationDType { get; }

    /// <summary>What the matrix products compute in (the one asked for when the hardware has it).</summary>
    ComputePrecision Precision { get; }

    /// <summary>A new zero-filled tensor in this backend's memory; the caller disposes it.</summary>
    Tensor Allocate(DType dtype, params int[] shape);

    /// <summary>Copies host bytes into <paramref name="destination"/> (exactly its <see cref="Tensor.ByteLength"/>), ordered
    /// after the ops already called.</summary>
    void Upload(ReadOnlySpan<byte> source, Tensor destination);

    /// <summary>Waits for the ops called so far and copies <paramref name="source"/>'s bytes to the host.</summary>
    void Download(Tensor source, Span<byte> destination);

    /// <summary>Waits until every op called so far has finished.</summary>
    void Synchronize();

    /// <summary>Until the returned scope is disposed, ops called from this thread stop soon after <paramref name="cancellation"/>
    /// fires (within a block of work, not a whole op) by throwing <see cref="OperationCanceledException"/>; the outputs of a
    /// cancelled op are unspecified.</summary>
    IDisposable ObserveCancellation(CancellationToken cancellation);

    /// <summary>Makes a Linear weight, described in its stored format over host bytes (usually a mapped checkpoint),
    /// resident where this backend computes. The CPU returns it as it is (no copy); a device uploads it once. The caller
    /// disposes the returned weight when the model is released.</summary>
    LinearWeight LoadLinear(LinearWeight stored);
}
