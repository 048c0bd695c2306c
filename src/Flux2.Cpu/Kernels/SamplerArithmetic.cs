namespace Flux2.Cpu.Kernels;

/// <summary>The sampler's element-wise fp32 arithmetic (Euler step, CFG, TaylorSeer, First-Block-Cache residual), written
/// with the reference's formulas and evaluation order. These run once per step on L_img·128 values, so they stay scalar
/// and single-threaded.</summary>
public static unsafe class SamplerArithmetic
{
    public static void EulerStep(float* x, float* v, long n, float dt)
    {
        for (long i = 0; i < n; i++) x[i] += dt * v[i];
    }

    public static void GuidanceCombine(float* velocity, float* negative, long n, float scale)
    {
        for (long i = 0; i < n; i++) velocity[i] = negative[i] + scale * (velocity[i] - negative[i]);
    }

    public static void TaylorUpdate(float* f0, float* f1, float* f2, float* v, long n, float divisor, bool secondOrder)
    {
        for (long i = 0; i < n; i++)
        {
            float next = (v[i] - f0[i]) / divisor;
            if (secondOrder) f2[i] = (next - f1[i]) / divisor;
            f1[i] = next;
            f0[i] = v[i];
        }
    }

    public static void TaylorExtrapolate(float* f0, float* f1, float* f2, long n, float delta, bool secondOrder, float* v)
    {
        if (secondOrder)
        {
            float half = 0.5f * delta * delta;
            for (long i = 0; i < n; i++) v[i] = f0[i] + f1[i] * delta + f2[i] * half;
        }
        else
        {
            for (long i = 0; i < n; i++) v[i] = f0[i] + f1[i] * delta;
        }
    }

    /// <summary>residual ← after − residual; returns (Σ|residual − previous|, Σ|previous|), sums in float64 in index order.</summary>
    public static (double Change, double Previous) ResidualChange(float* after, float* residual, float* previous, long n)
    {
        double change = 0, previousSum = 0;
        for (long i = 0; i < n; i++)
        {
            float r = after[i] - residual[i];
            residual[i] = r;
            change += Math.Abs(r - previous[i]);
            previousSum += Math.Abs(previous[i]);
        }
        return (change, previousSum);
    }
}
