namespace Flux2.Core.Backend;

/// <summary>
/// The compute operations models are written against. Models hold tensors and call these ops; they never
/// touch intrinsics, pointers or threads. Ops are grouped by domain in partial files (IBackend.*.cs);
/// every op works on preallocated tensors and allocates nothing.
/// </summary>
public partial interface IBackend
{
    string Name { get; }
}
