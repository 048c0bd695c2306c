using Flux2.Core;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Gemm;

/// <summary>
/// The Goto/BLIS loop nest. The output is cut into independent tasks, column ranges first (each task then packs
/// x once per kc slice, so wide ranges pay less), row ranges too when there are too few columns to give every
/// thread two tasks; each task packs its own weight panels and x blocks in per-thread scratch, so tasks need no
/// barrier between them. Inside a task: for each kc slice, a kc x nc weight panel is decoded once, then for each
/// mc x kc block of x, every MR-row strip (L1-resident) sweeps the panel's NR-column strips. The operand layout and
/// the register tile come from an <see cref="IPanelFormat"/> (fp32 or bf16 pairs).
/// </summary>
internal static unsafe class PackedGemm
{
    /// <summary>Depth of a packed slice: an MR x kc strip of x (18 KiB for MR = 12) stays in L1, and each C tile
    /// is loaded and stored once per 384 k steps. 384 measured ~4% faster than 256 on the model shapes.</summary>
    public const int KC = 384;
    /// <summary>Rows of x packed at once (a multiple of every kernel's MR).</summary>
    public const int MC = 384;
    /// <summary>Widest column range of one task: wider halves the repacking of x, and the kc x nc panel (2.3 MiB)
    /// still sits in L3 next to the other thread's.</summary>
    public const int MaxTaskColumns = 1536;
    /// <summary>Narrowest column range worth a task of its own before rows are split instead.</summary>
    public const int MinTaskColumns = 512;

    public static void Run<TFormat>(TFormat format, float* x, int m, int ldx, LinearWeight w, float* y, int ldy, bool accumulate, ComputePool pool)
        where TFormat : struct, IPanelFormat
    {
        int n = w.OutFeatures;
        int nr = format.Columns, mr = format.Rows;
        int threads = pool.ThreadCount;
        int columnChunks = Math.Max(DivideUp(n, MaxTaskColumns), Math.Min(2 * threads, n / MinTaskColumns));
        // Whole rounds of tasks, so that no thread is left with one extra while the others idle.
        if (columnChunks > threads) columnChunks = DivideUp(columnChunks, threads) * threads;
        int chunkColumns = DivideUp(DivideUp(n, columnChunks), nr) * nr;
        columnChunks = DivideUp(n, chunkColumns);
        int rowChunks = Math.Clamp(DivideUp(2 * threads, columnChunks), 1, DivideUp(m, mr));
        int chunkRows = DivideUp(DivideUp(m, rowChunks), mr) * mr;
        rowChunks = DivideUp(m, chunkRows);
        var work = new Work<TFormat>
        {
            Format = format, X = x, M = m, Ldx = ldx, W = w, Y = y, Ldy = ldy, Accumulate = accumulate,
            ColumnChunks = columnChunks, ChunkColumns = chunkColumns, ChunkRows = chunkRows,
        };
        pool.For(rowChunks * columnChunks, work);
    }

    private struct Work<TFormat> : IParallelWork where TFormat : struct, IPanelFormat
    {
        public TFormat Format;
        public float* X, Y;
        public int M, Ldx, Ldy, ColumnChunks, ChunkColumns, ChunkRows;
        public LinearWeight W;
        public bool Accumulate;

        public readonly void Execute(int index)
        {
            int m0 = index / ColumnChunks * ChunkRows, n0 = index % ColumnChunks * ChunkColumns;
            RunBlock(Format, X + (long)m0 * Ldx, Math.Min(ChunkRows, M - m0), Ldx, W, n0, Math.Min(ChunkColumns, W.OutFeatures - n0),
                Y + (long)m0 * Ldy + n0, Ldy, Accumulate);
        }
    }

    /// <summary>y[0 .. m, 0 .. nc) (+)= x[0 .. m, :] · W[n0 .. n0+nc, :]ᵀ on the calling thread.</summary>
    private static void RunBlock<TFormat>(TFormat format, float* x, int m, int ldx, LinearWeight w, int n0, int nc, float* y, int ldy, bool accumulate)
        where TFormat : struct, IPanelFormat
    {
        int k = w.InFeatures, mr = format.Rows, nr = format.Columns;
        var scratch = GemmScratch.Current;
        float* panel = scratch.Weights.Get((long)DivideUp(nc, nr) * nr * KC);
        float* block = scratch.Activations.Get((long)MC * KC);
        float* rowBuffers = scratch.DecodedRows.Get((long)nr * KC);
        float* edge = scratch.EdgeTile.Get(mr * nr);
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc), depth = format.Depth(kc);
            bool add = accumulate || pc > 0;
            format.PackWeights(w, n0, nc, pc, kc, panel, rowBuffers);
            for (int ic = 0; ic < m; ic += MC)
            {
                ComputePool.ThrowIfCancelled(); // a task can run for seconds at large sizes; a block is milliseconds
                int mc = Math.Min(MC, m - ic);
                format.PackActivations(x + (long)ic * ldx + pc, ldx, mc, kc, block);
                for (int ir = 0; ir < mc; ir += mr)
                {
                    int rows = Math.Min(mr, mc - ir);
                    float* a = block + (long)ir * depth;
                    float* cRow = y + (long)(ic + ir) * ldy;
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int cols = Math.Min(nr, nc - jr);
                        float* b = panel + (long)jr * depth;
                        if (rows == mr && cols == nr)
                        {
                            format.Tile(kc, a, b, cRow + jr, ldy, add);
                        }
                        else
                        {
                            format.Tile(kc, a, b, edge, nr, false);
                            MergeEdge(edge, nr, cRow + jr, ldy, rows, cols, add);
                        }
                    }
                }
            }
        }
    }

    private static void MergeEdge(float* tile, int ldt, float* c, int ldc, int rows, int cols, bool add)
    {
        for (int i = 0; i < rows; i++)
        {
            float* t = tile + i * ldt, ci = c + (long)i * ldc;
            for (int j = 0; j < cols; j++) ci[j] = add ? ci[j] + t[j] : t[j];
        }
    }

    private static int DivideUp(int a, int b) => (a + b - 1) / b;
}
