using Flux2.Core;
using Flux2.Core.Backend;

namespace Flux2.Models.TextEncoders;

/// <summary>
/// The LLM's RoPE cos/sin tables [L, head_dim/2] for positions 0..L−1, computed as transformers does for the
/// default rope type, in float32 throughout: inv_freq_j = 1 / θ^(2j/D), angle = pos · inv_freq_j, then cos/sin of
/// the float32 angle. (transformers repeats the half table twice; rotate-half only needs one copy.) A float64 table
/// moves the outputs by ~3e-5 on the goldens, so the float32 steps matter. The table is a constant of the model and the
/// length, computed on the host and uploaded once.
/// </summary>
public sealed class RotaryTable : IDisposable
{
    public Tensor Cos { get; }
    public Tensor Sin { get; }
    public int Length { get; }

    public RotaryTable(IBackend backend, int length, int headDim, double theta)
    {
        int half = headDim / 2;
        Length = length;
        var cos = new float[length * half];
        var sin = new float[length * half];
        float thetaF = (float)theta;
        for (int j = 0; j < half; j++)
        {
            float exponent = (float)(2 * j) / headDim;
            float invFreq = 1f / MathF.Pow(thetaF, exponent);
            for (int pos = 0; pos < length; pos++)
            {
                float angle = pos * invFreq;
                // Evaluated in double and rounded once: the correctly rounded float32 cos/sin torch aims for.
                cos[pos * half + j] = (float)Math.Cos(angle);
                sin[pos * half + j] = (float)Math.Sin(angle);
            }
        }
        Cos = backend.Upload<float>(cos, length, half);
        try
        {
            Sin = backend.Upload<float>(sin, length, half);
        }
        catch
        {
            Cos.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Cos.Dispose();
        Sin.Dispose();
    }
}
