using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Pipelines.Caching;

/// <summary>
/// TaylorSeer for one guidance stream (spec §10.2). On the steps <see cref="TaylorSeerOptions.Computes"/> selects the
/// model runs and the Taylor factors follow it: with Δ = step − last computed step (1 before any),
/// f1 ← (v − f0)/(Δ + 1e-9), f2 ← (f1_new − f1_old)/(Δ + 1e-9) at order 2 (else 0), f0 ← v. The other steps extrapolate
/// v̂ = f0 + f1·δ (+ ½·f2·δ² at order 2), δ = step − last computed step. All in fp32 on the backend.
/// </summary>
public sealed class TaylorSeerCache : IVelocityCache
{
    private const float Epsilon = 1e-9f;

    private readonly IBackend _backend;
    private readonly TaylorSeerOptions _options;
    private int? _lastComputed;

    /// <param name="imageTokens">noisy tokens L_img</param>
    /// <param name="channels">velocity channels per token</param>
    public TaylorSeerCache(IBackend backend, TaylorSeerOptions options, int imageTokens, int channels)
    {
        _backend = backend;
        _options = options;
        F0 = backend.Allocate(DType.Float32, 1, imageTokens, channels);
        F1 = backend.Allocate(DType.Float32, 1, imageTokens, channels);
        F2 = backend.Allocate(DType.Float32, 1, imageTokens, channels);
    }

    /// <summary>The Taylor factors: the last computed velocity and its first and second differences per step.</summary>
    public Tensor F0 { get; }
    public Tensor F1 { get; }
    public Tensor F2 { get; }

    public bool Predict(int step, IVelocitySource model, Tensor velocity)
    {
        if (_options.Computes(step))
        {
            model.Predict(velocity);
            Update(step, velocity);
            return false;
        }
        Extrapolate(step, velocity);
        return true;
    }

    /// <summary>Takes the model's velocity of a computed step into the factors.</summary>
    public void Update(int step, Tensor velocity)
    {
        float divisor = (_lastComputed is int last ? step - last : 1) + Epsilon;
        _backend.TaylorUpdate(F0, F1, F2, velocity, divisor, _options.MaxOrder >= 2);
        _lastComputed = step;
    }

    /// <summary>The Taylor estimate of the velocity at a skipped step.</summary>
    public void Extrapolate(int step, Tensor velocity)
    {
        float delta = step - (_lastComputed ?? 0);
        _backend.TaylorExtrapolate(F0, F1, F2, delta, _options.MaxOrder >= 2, velocity);
    }

    public void Dispose()
    {
        F0.Dispose();
        F1.Dispose();
        F2.Dispose();
    }
}
