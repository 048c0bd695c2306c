namespace Flux2.Core.Backend;

/// <summary>The sampler's element-wise arithmetic (spec §9.5, §9.6, §10), in fp32 with the reference's formulas so that
/// every backend rounds alike. Latents, velocities and the TaylorSeer state are Float32; First-Block-Cache's residuals
/// are the image stream's, in the backend's activation type.</summary>
public partial interface IBackend
{
    /// <summary>The Euler step x ← x + dt·v on every element.</summary>
    void EulerStep(Tensor latents, Tensor velocity, float dt);

    /// <summary>Classifier-free guidance v ← v_neg + scale·(v − v_neg), with <paramref name="velocity"/> holding the
    /// positive prediction on entry.</summary>
    void GuidanceCombine(Tensor velocity, Tensor negative, float scale);

    /// <summary>TaylorSeer's update on a computed step: f1' = (v − f0)/divisor; at second order f2 ← (f1' − f1)/divisor;
    /// then f1 ← f1', f0 ← v.</summary>
    void TaylorUpdate(Tensor f0, Tensor f1, Tensor f2, Tensor velocity, float divisor, bool secondOrder);

    /// <summary>TaylorSeer's estimate v = f0 + f1·δ (+ f2·½δ² at second order).</summary>
    void TaylorExtrapolate(Tensor f0, Tensor f1, Tensor f2, float delta, bool secondOrder, Tensor velocity);

    /// <summary>First-Block-Cache's measurement: residual ← after − residual (the residual holds the stream before the
    /// block on entry, and keeps the difference rounded to its type), then returns Σ|residual − previous| and Σ|previous|
    /// (element differences in fp32, sums in float64). The three tensors share one activation type. Waits for the ops
    /// before it, like a download.</summary>
    (double Change, double Previous) ResidualChange(Tensor after, Tensor residual, Tensor previous);
}
