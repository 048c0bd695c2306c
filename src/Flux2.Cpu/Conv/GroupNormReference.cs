namespace Flux2.Cpu.Conv;

/// <summary>The scalar oracle for <see cref="GroupNormKernel"/>: textbook GroupNorm in double, then SiLU.</summary>
public static unsafe class GroupNormReference
{
    public static void Run(float* x, int batch, int channels, int plane, int groups, float eps,
        float* gamma, float* beta, bool silu, float* y)
    {
        int perGroup = channels / groups;
        long n = (long)perGroup * plane;
        for (int b = 0; b < batch; b++)
        for (int g = 0; g < groups; g++)
        {
            float* src = x + ((long)b * channels + (long)g * perGroup) * plane;
            float* dst = y + ((long)b * channels + (long)g * perGroup) * plane;
            double mean = 0, variance = 0;
            for (long i = 0; i < n; i++) mean += src[i];
            mean /= n;
            for (long i = 0; i < n; i++) variance += (src[i] - mean) * (src[i] - mean);
            variance /= n;
            double rstd = 1.0 / Math.Sqrt(variance + eps);
            for (long i = 0; i < n; i++)
            {
                int c = g * perGroup + (int)(i / plane);
                double v = (src[i] - mean) * rstd * gamma[c] + beta[c];
                dst[i] = (float)(silu ? v / (1 + Math.Exp(-v)) : v);
            }
        }
    }
}
