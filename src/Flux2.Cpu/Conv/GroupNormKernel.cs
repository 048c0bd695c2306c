using System.Numerics;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>
/// GroupNorm (+ optional SiLU) over NCHW fp32: one work item per (image, group). A group's channels are
/// contiguous, so its statistics come from one run of memory, read once: each short block gets its own mean and then
/// its squared deviations from it (two passes over a block in L1, no cancellation, fp32 SIMD lanes), and the blocks
/// are combined in double (Chan et al.'s pairwise update), so the group is read twice in all (statistics, then
/// normalisation) instead of three times.
/// </summary>
public static unsafe class GroupNormKernel
{
    /// <summary>Elements summed in fp32 lanes before the partial sum is folded into a double.</summary>
    private const int BlockLength = 4096;

    public static void Run(ComputePool pool, float* x, int batch, int channels, int plane, int groups, float eps,
        float* gamma, float* beta, bool silu, float* y)
    {
        pool.For(batch * groups, new Work
        {
            X = x, Y = y, Gamma = gamma, Beta = beta, Channels = channels, Plane = plane, Groups = groups, Eps = eps, Silu = silu,
        });
    }

    private struct Work : IParallelWork
    {
        public float* X, Y, Gamma, Beta;
        public int Channels, Plane, Groups;
        public float Eps;
        public bool Silu;

        public readonly void Execute(int index)
        {
            int b = index / Groups, g = index - b * Groups;
            int perGroup = Channels / Groups;
            long offset = ((long)b * Channels + (long)g * perGroup) * Plane;
            long n = (long)perGroup * Plane;
            var (mean, variance) = Statistics(X + offset, n);
            float rstd = (float)(1.0 / Math.Sqrt(variance + Eps));
            for (int c = g * perGroup; c < (g + 1) * perGroup; c++)
            {
                long at = ((long)b * Channels + c) * Plane;
                Apply(X + at, Y + at, Plane, (float)mean, rstd * Gamma[c], Beta[c], Silu);
            }
        }
    }

    /// <summary>The mean and the mean squared deviation of x[0 .. n).</summary>
    private static (double Mean, double Variance) Statistics(float* x, long n)
    {
        double mean = 0, m2 = 0;
        long count = 0;
        for (long start = 0; start < n; start += BlockLength)
        {
            int len = (int)Math.Min(BlockLength, n - start);
            float* p = x + start;
            double blockMean = Sum(p, len, 0f) / len;
            // Deviations are taken from the mean rounded to float; Σ(x − c)² = Σ(x − mean)² + len·(mean − c)².
            float center = (float)blockMean;
            double blockM2 = Sum(p, len, center, squared: true) - len * (blockMean - center) * (blockMean - center);
            long total = count + len;
            double delta = blockMean - mean;
            mean += delta * len / total;
            m2 += blockM2 + delta * delta * count * len / total;
            count = total;
        }
        return (mean, Math.Max(0, m2) / n);
    }

    /// <summary>Σ (x − center) or, when <paramref name="squared"/>, Σ (x − center)², over one block, in fp32 lanes.</summary>
    private static double Sum(float* p, int len, float center, bool squared = false)
    {
        int width = Vector<float>.Count;
        var c = new Vector<float>(center);
        var acc = Vector<float>.Zero;
        int i = 0;
        for (; i <= len - width; i += width)
        {
            var d = Vector.Load(p + i) - c;
            acc += squared ? d * d : d;
        }
        float tail = 0;
        for (; i < len; i++)
        {
            float d = p[i] - center;
            tail += squared ? d * d : d;
        }
        return (double)Vector.Sum(acc) + tail;
    }

    /// <summary>y = (x − mean)·scale + shift, then SiLU. Subtracting the mean first keeps the digits that
    /// x·scale − mean·scale would cancel when the spread is small against the mean.</summary>
    private static void Apply(float* x, float* y, int n, float mean, float scale, float shift, bool silu)
    {
        int width = Vector<float>.Count;
        var m = new Vector<float>(mean);
        var s = new Vector<float>(scale);
        var t = new Vector<float>(shift);
        int i = 0;
        for (; i <= n - width; i += width)
        {
            var v = (Vector.Load(x + i) - m) * s + t;
            if (silu) v /= Vector<float>.One + Vector.Exp(-v);
            v.Store(y + i);
        }
        for (; i < n; i++)
        {
            float v = (x[i] - mean) * scale + shift;
            y[i] = silu ? v / (1f + MathF.Exp(-v)) : v;
        }
    }
}
