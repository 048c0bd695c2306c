using Flux2.Core;
using Flux2.Core.Decoding;
using Flux2.Core.Numerics;

namespace Flux2.Cpu.Gemm;

/// <summary>The scalar oracle for the GEMM: straightforward loops, double-free fp32 accumulation.</summary>
public static unsafe class GemmReference
{
    public static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate) =>
        Multiply(x, m, ldx, w, y, ldy, accumulate, roundToBf16: false);

    /// <summary>The oracle of the bf16 path: both operands rounded to bf16 (nearest even) first, products exact, fp32 sums.</summary>
    public static void MultiplyBf16(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate) =>
        Multiply(x, m, ldx, w, y, ldy, accumulate, roundToBf16: true);

    private static void Multiply(float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, bool roundToBf16)
    {
        int n = w.OutFeatures, k = w.InFeatures;
        var row = new float[k];
        fixed (float* r = row)
        {
            for (int j = 0; j < n; j++)
            {
                WeightRowDecoder.Decode(w, j, 0, k, r);
                if (roundToBf16) for (int p = 0; p < k; p++) r[p] = Bf16(r[p]);
                for (int i = 0; i < m; i++)
                {
                    float* xi = x + (long)i * ldx;
                    float s = 0;
                    for (int p = 0; p < k; p++) s += (roundToBf16 ? Bf16(xi[p]) : xi[p]) * r[p];
                    float* yi = y + (long)i * ldy + j;
                    *yi = accumulate ? *yi + s : s;
                }
            }
        }
    }

    private static float Bf16(float value) => BFloat16Bits.ToFloat(BFloat16Bits.FromFloat(value));
}
