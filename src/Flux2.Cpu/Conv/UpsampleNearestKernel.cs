using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>Nearest-neighbour ×2 upsampling of NCHW planes, one work item per plane: each input row is widened
/// once into output row 2i and copied to row 2i + 1.</summary>
public static unsafe class UpsampleNearestKernel
{
    public static void Run(ComputePool pool, float* x, int planes, int height, int width, float* y)
    {
        pool.For(planes, new Work { X = x, Y = y, Height = height, Width = width });
    }

    private struct Work : IParallelWork
    {
        public float* X, Y;
        public int Height, Width;

        public readonly void Execute(int index)
        {
            int outWidth = 2 * Width;
            float* src = X + (long)index * Height * Width;
            float* dst = Y + (long)index * Height * Width * 4;
            for (int i = 0; i < Height; i++, src += Width, dst += 2 * outWidth)
            {
                for (int j = 0; j < Width; j++) dst[2 * j] = dst[2 * j + 1] = src[j];
                new ReadOnlySpan<float>(dst, outWidth).CopyTo(new Span<float>(dst + outWidth, outWidth));
            }
        }
    }
}
