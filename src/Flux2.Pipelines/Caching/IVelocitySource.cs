using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Models.Transformer;

namespace Flux2.Pipelines.Caching;

/// <summary>One guidance stream's velocity model at the current step, as a cache sees it.</summary>
public interface IVelocitySource
{
    /// <summary>Where the velocity and the cache's state live.</summary>
    IBackend Backend { get; }

    /// <summary>A full model pass writing the stream's velocity for the noisy tokens into <paramref name="velocity"/>.</summary>
    void Predict(Tensor velocity);

    /// <summary>A model pass that <paramref name="firstBlock"/> may stop after double block 0.</summary>
    /// <returns>false when it stopped (<paramref name="velocity"/> is then untouched)</returns>
    bool TryPredict(Tensor velocity, IFirstBlockHook firstBlock);
}
