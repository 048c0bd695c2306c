using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>Between interleaved 8-bit RGB images [B, H, W, 3] and the VAE's planar pixels [B, 3, H, W], in fp32 as
/// diffusers' image processor computes it; one work item per image row.</summary>
public static unsafe class ImageConversionKernel
{
    /// <summary>pixels = 2·(u8/255) − 1.</summary>
    public static void ToPixels(ComputePool pool, byte* rgb, float* pixels, int batch, int height, int width) =>
        pool.For(batch * height, new Work { Rgb = rgb, Pixels = pixels, Height = height, Width = width, Direction = Direction.ToPixels });

    /// <summary>unit = clamp(x/2 + 0.5, 0, 1), stored as fp32 (<paramref name="unit"/>) or round-half-even(255·unit) bytes (<paramref name="rgb"/>).</summary>
    public static void ToImage(ComputePool pool, float* pixels, byte* rgb, float* unit, int batch, int height, int width) =>
        pool.For(batch * height, new Work
        {
            Rgb = rgb, Unit = unit, Pixels = pixels, Height = height, Width = width,
            Direction = rgb != null ? Direction.ToBytes : Direction.ToUnit,
        });

    private enum Direction { ToPixels, ToBytes, ToUnit }

    private struct Work : IParallelWork
    {
        public byte* Rgb;
        public float* Pixels, Unit;
        public int Height, Width;
        public Direction Direction;

        public readonly void Execute(int index)
        {
            int b = index / Height, row = index % Height;
            long plane = (long)Height * Width;
            long interleaved = ((long)b * Height + row) * Width * 3;
            float* planar = Pixels + b * 3 * plane + (long)row * Width;
            for (int x = 0; x < Width; x++)
            for (int c = 0; c < 3; c++)
            {
                long i = interleaved + x * 3 + c;
                float* p = planar + c * plane + x;
                switch (Direction)
                {
                    case Direction.ToPixels: *p = 2f * (Rgb[i] / 255f) - 1f; break;
                    case Direction.ToBytes: Rgb[i] = (byte)MathF.Round(UnitValue(*p) * 255f, MidpointRounding.ToEven); break;
                    default: Unit[i] = UnitValue(*p); break;
                }
            }
        }

        private static float UnitValue(float x) => Math.Clamp(x / 2f + 0.5f, 0f, 1f);
    }
}
