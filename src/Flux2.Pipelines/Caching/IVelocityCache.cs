using Flux2.Core;

namespace Flux2.Pipelines.Caching;

/// <summary>One guidance stream's cache state over the steps of one image (spec §10): it decides per step whether the
/// model runs and writes the stream's velocity for the noisy tokens.</summary>
public interface IVelocityCache : IDisposable
{
    /// <param name="step">0-based step</param>
    /// <param name="model">the stream's model at this step</param>
    /// <param name="velocity">Float32 [1, L_img, channels] on the model's backend; receives the stream's velocity</param>
    /// <returns>true when the velocity came from the cache instead of a full model pass</returns>
    bool Predict(int step, IVelocitySource model, Tensor velocity);
}
