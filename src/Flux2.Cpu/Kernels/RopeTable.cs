namespace Flux2.Cpu.Kernels;

/// <summary>
/// The cos/sin tables of the DiT's 4-axis RoPE (spec §3.5): axis a owns axesDims[a] head dims, i.e. axesDims[a]/2
/// pairs; pair j of axis a has ω_j = θ^(−2j/axesDims[a]) and angle pos_a·ω_j. Built in float64 and stored as
/// fp32 (the diffusers convention), one row of headDim/2 pairs per token.
/// </summary>
public static unsafe class RopeTable
{
    /// <param name="ids">[rows, axes] int64 positions (t, h, w, l)</param>
    /// <param name="cos">[rows, sum(axesDims)/2]</param>
    public static void Build(long* ids, int rows, ReadOnlySpan<int> axesDims, double theta, float* cos, float* sin)
    {
        int axes = axesDims.Length, pairs = 0;
        foreach (var a in axesDims) pairs += a / 2;
        Span<double> omega = stackalloc double[pairs];
        Span<int> axisOf = stackalloc int[pairs];
        int p = 0;
        for (int a = 0; a < axes; a++)
        {
            int dim = axesDims[a];
            for (int j = 0; j < dim / 2; j++, p++)
            {
                omega[p] = 1.0 / Math.Pow(theta, 2.0 * j / dim);
                axisOf[p] = a;
            }
        }
        for (int r = 0; r < rows; r++)
        {
            for (p = 0; p < pairs; p++)
            {
                double angle = ids[(long)r * axes + axisOf[p]] * omega[p];
                cos[(long)r * pairs + p] = (float)Math.Cos(angle);
                sin[(long)r * pairs + p] = (float)Math.Sin(angle);
            }
        }
    }
}
