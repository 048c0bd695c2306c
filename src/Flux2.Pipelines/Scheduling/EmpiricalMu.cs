namespace Flux2.Pipelines.Scheduling;

/// <summary>
/// The FLUX.2 time-shift exponent μ as a function of the image size and the step count (spec §9.3), identical in
/// the BFL reference and diffusers. Evaluated in float64 in the reference's operation order.
/// </summary>
public static class EmpiricalMu
{
    private const double A1 = 8.73809524e-05;
    private const double B1 = 1.89833333;
    private const double A2 = 0.00016927;
    private const double B2 = 0.45666666;

    /// <summary>Above this many image tokens μ no longer depends on the step count (the curve is discontinuous there).</summary>
    public const int LargeImageThreshold = 4300;

    /// <param name="imageSeqLen">number of noisy image tokens (H/16)·(W/16); reference-image tokens are not counted</param>
    /// <param name="steps">number of denoising steps</param>
    public static double Compute(int imageSeqLen, int steps)
    {
        if (imageSeqLen <= 0) throw new SchedulerException($"image sequence length must be at least 1, got {imageSeqLen}");
        if (steps <= 0) throw new SchedulerException($"the number of steps must be at least 1, got {steps}");
        double m200 = A2 * imageSeqLen + B2;
        if (imageSeqLen > LargeImageThreshold) return m200;
        double m10 = A1 * imageSeqLen + B1;
        double a = (m200 - m10) / 190.0;
        double b = m200 - 200.0 * a;
        return a * steps + b;
    }
}
