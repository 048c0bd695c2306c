namespace Flux2.Pipelines.Caching;

/// <summary>One guidance stream's cache state over the steps of one image (spec §10): it decides per step whether the
/// model runs and writes the stream's velocity for the noisy tokens.</summary>
public interface IVelocityCache
{
    /// <param name="step">0-based step</param>
    /// <param name="call">the model inputs of this stream and step</param>
    /// <param name="velocity">[L_img · channels] receives the stream's velocity</param>
    /// <returns>true when the velocity came from the cache instead of a full model pass</returns>
    bool Predict(int step, in ModelCall call, Span<float> velocity);
}
