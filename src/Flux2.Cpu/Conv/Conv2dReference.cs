using Flux2.Core;
using Flux2.Core.Backend;
using Flux2.Core.Decoding;

namespace Flux2.Cpu.Conv;

/// <summary>The scalar oracle for <see cref="Conv2dKernel"/>: a direct convolution with double accumulation.</summary>
public static unsafe class Conv2dReference
{
    public static void Run(float* x, in Conv2dGeometry g, LinearWeight weight, float* bias, float* y, bool accumulate)
    {
        int k = g.KernelSize;
        var row = new float[g.PatchLength];
        fixed (float* w = row)
        {
            for (int co = 0; co < g.OutChannels; co++)
            {
                WeightRowDecoder.Decode(weight, co, 0, g.PatchLength, w);
                for (int oy = 0; oy < g.OutHeight; oy++)
                for (int ox = 0; ox < g.OutWidth; ox++)
                {
                    double s = bias[co];
                    for (int ci = 0; ci < g.InChannels; ci++)
                    for (int ky = 0; ky < k; ky++)
                    for (int kx = 0; kx < k; kx++)
                    {
                        int iy = oy * g.Stride + ky - g.Padding.Top;
                        int ix = ox * g.Stride + kx - g.Padding.Left;
                        if (iy < 0 || iy >= g.Height || ix < 0 || ix >= g.Width) continue;
                        s += (double)w[(ci * k + ky) * k + kx] * x[((long)ci * g.Height + iy) * g.Width + ix];
                    }
                    float* o = y + ((long)co * g.OutHeight + oy) * g.OutWidth + ox;
                    *o = accumulate ? (float)(*o + s) : (float)s;
                }
            }
        }
    }
}
