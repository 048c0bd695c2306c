using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Conv;

/// <summary>y[b, j, i] = x[b, i, j] for x [B, R, C], in 32×32 tiles so both sides stay in cache;
/// one work item per (batch, band of 32 rows of x).</summary>
public static unsafe class TransposeKernel
{
    private const int Tile = 32;

    public static void Run(ComputePool pool, float* x, int batch, int rows, int cols, float* y)
    {
        int bands = (rows + Tile - 1) / Tile;
        pool.For(batch * bands, new Work { X = x, Y = y, Rows = rows, Cols = cols, Bands = bands });
    }

    private struct Work : IParallelWork
    {
        public float* X, Y;
        public int Rows, Cols, Bands;

        public readonly void Execute(int index)
        {
            int b = index / Bands;
            int i0 = (index - b * Bands) * Tile, i1 = Math.Min(Rows, i0 + Tile);
            float* src = X + (long)b * Rows * Cols;
            float* dst = Y + (long)b * Rows * Cols;
            for (int j0 = 0; j0 < Cols; j0 += Tile)
            {
                int j1 = Math.Min(Cols, j0 + Tile);
                for (int j = j0; j < j1; j++)
                for (int i = i0; i < i1; i++)
                    dst[(long)j * Rows + i] = src[(long)i * Cols + j];
            }
        }
    }
}
