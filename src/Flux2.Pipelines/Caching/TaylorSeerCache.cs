namespace Flux2.Pipelines.Caching;

/// <summary>
/// TaylorSeer for one guidance stream (spec §10.2). On the steps <see cref="TaylorSeerOptions.Computes"/> selects the
/// model runs and the Taylor factors follow it: with Δ = step − last computed step (1 before any),
/// f1 ← (v − f0)/(Δ + 1e-9), f2 ← (f1_new − f1_old)/(Δ + 1e-9) at order 2 (else 0), f0 ← v. The other steps extrapolate
/// v̂ = f0 + f1·δ (+ ½·f2·δ² at order 2), δ = step − last computed step. All in fp32.
/// </summary>
public sealed class TaylorSeerCache : IVelocityCache
{
    private const float Epsilon = 1e-9f;

    private readonly TaylorSeerOptions _options;
    private readonly float[] _f0, _f1, _f2;
    private int? _lastComputed;

    /// <param name="velocityLength">values of the stream's velocity (L_img · channels)</param>
    public TaylorSeerCache(TaylorSeerOptions options, int velocityLength)
    {
        _options = options;
        _f0 = new float[velocityLength];
        _f1 = new float[velocityLength];
        _f2 = new float[velocityLength];
    }

    /// <summary>The Taylor factors: the last computed velocity and its first and second differences per step.</summary>
    public ReadOnlySpan<float> F0 => _f0;
    public ReadOnlySpan<float> F1 => _f1;
    public ReadOnlySpan<float> F2 => _f2;

    public bool Predict(int step, in ModelCall call, Span<float> velocity)
    {
        if (_options.Computes(step))
        {
            call.Predict(velocity);
            Update(step, velocity);
            return false;
        }
        Extrapolate(step, velocity);
        return true;
    }

    /// <summary>Takes the model's velocity of a computed step into the factors.</summary>
    public void Update(int step, ReadOnlySpan<float> velocity)
    {
        float divisor = (_lastComputed is int last ? step - last : 1) + Epsilon;
        bool second = _options.MaxOrder >= 2;
        for (int i = 0; i < _f0.Length; i++)
        {
            float f1 = (velocity[i] - _f0[i]) / divisor;
            if (second) _f2[i] = (f1 - _f1[i]) / divisor;
            _f1[i] = f1;
            _f0[i] = velocity[i];
        }
        _lastComputed = step;
    }

    /// <summary>The Taylor estimate of the velocity at a skipped step.</summary>
    public void Extrapolate(int step, Span<float> velocity)
    {
        float delta = step - (_lastComputed ?? 0);
        if (_options.MaxOrder >= 2)
        {
            float half = 0.5f * delta * delta;
            for (int i = 0; i < _f0.Length; i++) velocity[i] = _f0[i] + _f1[i] * delta + _f2[i] * half;
        }
        else
        {
            for (int i = 0; i < _f0.Length; i++) velocity[i] = _f0[i] + _f1[i] * delta;
        }
    }
}
