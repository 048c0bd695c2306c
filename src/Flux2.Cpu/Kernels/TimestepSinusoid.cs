namespace Flux2.Cpu.Kernels;

/// <summary>
/// The timestep / guidance sinusoid (spec §3.2) in fp32 as diffusers computes it: t' = t·multiplier,
/// f_i = exp(−ln(10000)·i / half) with half = channels/2 (the divisor is half, not half − 1),
/// emb = [cos(t'·f_0 .. t'·f_{half−1}), sin(...)]: <b>cosine first</b>.
/// The angles reach 1000·g (≈ 4000 for dev guidance), where one ulp of f_i moves an angle by 2.4e-4, so f_i is
/// computed with the same fp32 exp algorithm as PyTorch's CPU kernel (SLEEF expf, 1-ulp) rather than a correctly
/// rounded exp; this reproduces the reference sinusoid to the ulp.
/// </summary>
public static unsafe class TimestepSinusoid
{
    /// <param name="t">[batch] timesteps (σ in [0, 1] for the DiT, multiplied by <paramref name="multiplier"/>)</param>
    /// <param name="emb">[batch, channels]</param>
    public static void Run(float* t, int batch, float multiplier, float* emb, int channels)
    {
        int half = channels / 2;
        float logPeriod = (float)-Math.Log(10000.0);
        for (int b = 0; b < batch; b++)
        {
            float scaled = t[b] * multiplier;
            float* row = emb + (long)b * channels;
            for (int i = 0; i < half; i++)
            {
                // Each step rounds to fp32 like the reference: exponent, division, exp, product.
                float exponent = logPeriod * i / half;
                float freq = SleefExp(exponent);
                float angle = scaled * freq;
                row[i] = (float)Math.Cos(angle);
                row[half + i] = (float)Math.Sin(angle);
            }
        }
    }

    /// <summary>SLEEF's xexpf (1.0-ulp): range reduction by ln 2 in two parts, degree-6 polynomial, all fp32 with FMA.</summary>
    internal static float SleefExp(float d)
    {
        const float rLn2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
        const float ln2Upper = 0.693145751953125f;
        const float ln2Lower = 1.428606765330187045e-06f;
        float q = MathF.Round(d * rLn2, MidpointRounding.ToEven);
        float s = MathF.FusedMultiplyAdd(q, -ln2Upper, d);
        s = MathF.FusedMultiplyAdd(q, -ln2Lower, s);
        float u = 0.000198527617612853646278381f;
        u = MathF.FusedMultiplyAdd(u, s, 0.00139304355252534151077271f);
        u = MathF.FusedMultiplyAdd(u, s, 0.00833336077630519866943359f);
        u = MathF.FusedMultiplyAdd(u, s, 0.0416664853692054748535156f);
        u = MathF.FusedMultiplyAdd(u, s, 0.166666671633720397949219f);
        u = MathF.FusedMultiplyAdd(u, s, 0.5f);
        u = 1f + MathF.FusedMultiplyAdd(s * s, u, s);
        if (d < -104f) return 0f;
        if (d > 100f) return float.PositiveInfinity;
        return MathF.ScaleB(u, (int)q);
    }
}
