using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>Moves elements between z [B, C, H, W] and its 2×2 patchified form z_p [B, 4C, H/2, W/2] with
/// z_p[c·4 + dy·2 + dx, y, x] = z[c, 2y + dy, 2x + dx], in either direction; one work item per (batch, channel) of z.</summary>
public static unsafe class Patchify2x2Kernel
{
    public static void Run(ComputePool pool, float* z, float* patched, int batch, int channels, int height, int width, bool patchify)
    {
        pool.For(batch * channels, new Work { Z = z, Patched = patched, Height = height, Width = width, Patchify = patchify });
    }

    private struct Work : IParallelWork
    {
        public float* Z, Patched;
        public int Height, Width;
        public bool Patchify;

        public readonly void Execute(int plane)
        {
            int h = Height / 2, w = Width / 2;
            // Plane (b, c) of z owns the 4 patched planes 4·(b·C + c) + dy·2 + dx, which are consecutive.
            float* z = Z + (long)plane * Height * Width;
            float* p = Patched + (long)plane * Height * Width;
            for (int yy = 0; yy < Height; yy++)
            for (int xx = 0; xx < Width; xx++)
            {
                long pi = ((long)((yy & 1) * 2 + (xx & 1)) * h + (yy >> 1)) * w + (xx >> 1);
                long zi = (long)yy * Width + xx;
                if (Patchify) p[pi] = z[zi];
                else z[zi] = p[pi];
            }
        }
    }
}
