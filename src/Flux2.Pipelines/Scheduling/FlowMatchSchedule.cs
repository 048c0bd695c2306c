namespace Flux2.Pipelines.Scheduling;

/// <summary>
/// The flow-matching Euler schedule of the FLUX.2 pipelines (spec §9.4–9.5): N shifted sigmas plus a final 0, the
/// timesteps the denoising loop iterates over, the value the transformer receives and the Euler step sizes.
/// Everything after μ is computed in float32 exactly as diffusers' FlowMatchEulerDiscreteScheduler does
/// (use_dynamic_shifting, exponential time shift), so the tables match the reference bit for bit.
/// </summary>
public sealed class FlowMatchSchedule
{
    /// <summary>diffusers' num_train_timesteps: timesteps are sigmas scaled by it.</summary>
    public const float TrainTimesteps = 1000f;

    private FlowMatchSchedule(double mu, float[] sigmas)
    {
        Mu = mu;
        Sigmas = sigmas;
        int n = sigmas.Length - 1;
        var timesteps = new float[n];
        var modelTimesteps = new float[n];
        var eulerDt = new float[n];
        for (int i = 0; i < n; i++)
        {
            timesteps[i] = sigmas[i] * TrainTimesteps;
            // diffusers hands the transformer timestep / 1000 (one more fp32 rounding); the model scales it back up.
            modelTimesteps[i] = timesteps[i] / TrainTimesteps;
            eulerDt[i] = sigmas[i + 1] - sigmas[i];
        }
        Timesteps = timesteps;
        ModelTimesteps = modelTimesteps;
        EulerDt = eulerDt;
    }

    /// <summary>The time-shift exponent the sigmas were shifted with.</summary>
    public double Mu { get; }

    /// <summary>N + 1 values, decreasing, the last one 0.</summary>
    public IReadOnlyList<float> Sigmas { get; }

    /// <summary>N values: sigma · 1000.</summary>
    public IReadOnlyList<float> Timesteps { get; }

    /// <summary>N values: the timestep argument of the transformer (timestep / 1000 in fp32).</summary>
    public IReadOnlyList<float> ModelTimesteps { get; }

    /// <summary>N values: sigma[i+1] − sigma[i], the Euler step x ← x + dt·v.</summary>
    public IReadOnlyList<float> EulerDt { get; }

    public int Steps => Timesteps.Count;

    /// <summary>The default schedule: sigmas = linspace(1, 1/N, N), shifted with μ(imageSeqLen, N).</summary>
    /// <param name="imageSeqLen">number of noisy image tokens (reference-image tokens excluded)</param>
    public static FlowMatchSchedule Create(int steps, int imageSeqLen)
    {
        if (steps <= 0) throw new SchedulerException($"the number of steps must be at least 1, got {steps}");
        return Shifted(Linspace(1.0, 1.0 / steps, steps), EmpiricalMu.Compute(imageSeqLen, steps));
    }

    /// <summary>
    /// A custom schedule: <paramref name="sigmas"/> replaces linspace(1, 1/N, N) and is shifted with μ(imageSeqLen, N)
    /// like the default one, as diffusers does with a user-supplied sigma list. N = the number of values.
    /// </summary>
    public static FlowMatchSchedule FromSigmas(IReadOnlyList<double> sigmas, int imageSeqLen)
    {
        if (sigmas.Count == 0) throw new SchedulerException("the custom sigma list is empty; it needs one value per step");
        for (int i = 0; i < sigmas.Count; i++)
        {
            double s = sigmas[i];
            if (!(s >= 0.0 && s <= 1.0)) throw new SchedulerException($"custom sigma [{i}] = {s} is outside [0, 1]");
            if (i > 0 && !(s < sigmas[i - 1]))
                throw new SchedulerException($"custom sigmas must be strictly decreasing, but [{i - 1}] = {sigmas[i - 1]} and [{i}] = {s}");
        }
        return Shifted(sigmas.ToArray(), EmpiricalMu.Compute(imageSeqLen, sigmas.Count));
    }

    /// <summary>sigma' = e^μ / (e^μ + (1/sigma − 1)) evaluated in float32 with e^μ rounded to float32 first, as NumPy
    /// does for a Python float combined with a float32 array; then the terminal 0 is appended.</summary>
    private static FlowMatchSchedule Shifted(double[] sigmas, double mu)
    {
        float expMu = (float)Math.Exp(mu);
        var shifted = new float[sigmas.Length + 1];
        for (int i = 0; i < sigmas.Length; i++)
        {
            float t = (float)sigmas[i];
            shifted[i] = expMu / (expMu + (1f / t - 1f));
        }
        return new FlowMatchSchedule(mu, shifted);
    }

    /// <summary>NumPy's linspace in float64: start + i·step with step = (stop − start)/(num − 1), the last value set
    /// to stop exactly.</summary>
    private static double[] Linspace(double start, double stop, int num)
    {
        var y = new double[num];
        if (num == 1)
        {
            y[0] = start;
            return y;
        }
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) y[i] = i * step + start;
        y[num - 1] = stop;
        return y;
    }
}
