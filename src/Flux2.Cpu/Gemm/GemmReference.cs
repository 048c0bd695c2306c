using Flux2.Core;

namespace Flux2.Cpu.Gemm;

/// <summary>The scalar oracle for the GEMM: straightforward loops, double-free fp32 accumulation.</summary>
public static unsafe class GemmReference
{
    public static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate)
    {
        int n = w.OutFeatures, k = w.InFeatures;
        var row = new float[k];
        fixed (float* r = row)
        {
            for (int j = 0; j < n; j++)
            {
                WeightRowDecoder.Decode(w, j, 0, k, r);
                for (int i = 0; i < m; i++)
                {
                    float* xi = x + (long)i * ldx;
                    float s = 0;
                    for (int p = 0; p < k; p++) s += xi[p] * r[p];
                    float* yi = y + (long)i * ldy + j;
                    *yi = accumulate ? *yi + s : s;
                }
            }
        }
    }
}
