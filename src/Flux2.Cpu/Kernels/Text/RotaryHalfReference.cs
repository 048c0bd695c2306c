namespace Flux2.Cpu.Kernels.Text;

/// <summary>The scalar oracle for <see cref="RotaryHalf"/>: the formula of spec §7.3, one element at a time.</summary>
public static unsafe class RotaryHalfReference
{
    public static void Run(float* x, int batch, int length, int heads, int headDim, float* cos, float* sin)
    {
        int half = headDim / 2;
        for (int b = 0; b < batch; b++)
            for (int l = 0; l < length; l++)
                for (int h = 0; h < heads; h++)
                {
                    float* v = x + (((long)b * length + l) * heads + h) * headDim;
                    for (int d = 0; d < half; d++)
                    {
                        float c = cos[l * half + d], s = sin[l * half + d];
                        float a = v[d], e = v[d + half];
                        v[d] = a * c - e * s;
                        v[d + half] = e * c + a * s;
                    }
                }
    }
}
