using Flux2.Core.Backend;

namespace Flux2.Cpu.Kernels.Text;

/// <summary>The scalar oracle for <see cref="CausalMaskedAttention"/>: per query row, the scores of the visible
/// keys, a two-pass softmax and the weighted sum of values, exactly as written in the op's definition.</summary>
public static unsafe class CausalMaskedAttentionReference
{
    public static void Run(float* q, float* k, float* v, long* keyMask, float* o,
        int batch, int length, int qHeads, int kvHeads, int headDim, FullyMaskedRows fullyMaskedRows)
    {
        float scale = 1f / MathF.Sqrt(headDim);
        var scores = new float[length];
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < qHeads; h++)
            {
                int kvh = h / (qHeads / kvHeads);
                for (int i = 0; i < length; i++)
                {
                    float* qi = q + (((long)b * length + i) * qHeads + h) * headDim;
                    float* oi = o + (((long)b * length + i) * qHeads + h) * headDim;
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < length; j++)
                    {
                        scores[j] = float.NegativeInfinity;
                        if (j > i || keyMask[(long)b * length + j] == 0) continue;
                        float* kj = k + (((long)b * length + j) * kvHeads + kvh) * headDim;
                        float s = 0;
                        for (int e = 0; e < headDim; e++) s += qi[e] * kj[e];
                        scores[j] = s * scale;
                        max = Math.Max(max, scores[j]);
                    }
                    for (int e = 0; e < headDim; e++) oi[e] = 0;
                    if (max == float.NegativeInfinity)
                    {
                        if (fullyMaskedRows == FullyMaskedRows.Zero) continue;
                        for (int j = 0; j < length; j++) scores[j] = 0; // equal logits over every key
                        max = 0;
                    }
                    float sum = 0;
                    for (int j = 0; j < length; j++)
                    {
                        scores[j] = scores[j] == float.NegativeInfinity ? 0 : MathF.Exp(scores[j] - max);
                        sum += scores[j];
                    }
                    for (int j = 0; j < length; j++)
                    {
                        if (scores[j] == 0) continue;
                        float* vj = v + (((long)b * length + j) * kvHeads + kvh) * headDim;
                        float p = scores[j] / sum;
                        for (int e = 0; e < headDim; e++) oi[e] += p * vj[e];
                    }
                }
            }
    }
}
