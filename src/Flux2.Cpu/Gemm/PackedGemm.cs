using Flux2.Core;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Gemm;

/// <summary>
/// The Goto/BLIS loop nest, one kc slice of the product at a time: the slice of x is packed once into strips shared by
/// every task (so a wide W does not convert x once per column range, as bf16 packing would), then the output is cut
/// into independent tasks, column ranges first, row ranges too when there are too few columns to give every thread two
/// tasks. A task decodes its kc x nc weight panel once into per-thread scratch, and every MR-row strip of x (L1-resident)
/// sweeps the panel's NR-column strips. The operand layout and the register tile come from an <see cref="IPanelFormat"/>
/// (fp32 or bf16 pairs).
/// </summary>
internal static unsafe class PackedGemm
{
    /// <summary>Depth of a packed slice: an MR x kc strip of x (18 KiB for MR = 12) stays in L1, and each C tile
    /// is loaded and stored once per 384 k steps. 384 measured ~4% faster than 256 on the model shapes.</summary>
    public const int KC = 384;
    /// <summary>Rows of x one packing item converts (a multiple of every kernel's MR); also how often a task polls for
    /// cancellation.</summary>
    public const int MC = 384;
    /// <summary>Widest column range of one task: the kc x nc panel (2.3 MiB) still sits in L3 next to the other thread's.</summary>
    public const int MaxTaskColumns = 1536;
    /// <summary>Narrowest column range worth a task of its own before rows are split instead.</summary>
    public const int MinTaskColumns = 512;

    public static void Run<TFormat, TColumns>(TFormat format, float* x, int m, int ldx, TColumns w, float* y, int ldy, bool accumulate, ComputePool pool)
        where TFormat : struct, IPanelFormat
        where TColumns : struct, IColumnOperand
    {
        int n = w.Count, k = w.Depth;
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
        // The packed slice lives in the calling thread's scratch; the tasks only read it.
        float* packed = GemmScratch.Current.Activations.Get((long)DivideUp(m, mr) * mr * format.Depth(KC));
        var pack = new PackSlice<TFormat> { Format = format, X = x, M = m, Ldx = ldx, Packed = packed };
        var work = new Work<TFormat, TColumns>
        {
            Format = format, Packed = packed, M = m, W = w, Y = y, Ldy = ldy, Accumulate = accumulate,
            ColumnChunks = columnChunks, ChunkColumns = chunkColumns, ChunkRows = chunkRows,
        };
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            pack.K0 = work.K0 = pc;
            pack.Kc = work.Kc = kc;
            pool.For(DivideUp(m, MC), pack);
            pool.For(rowChunks * columnChunks, work);
        }
    }

    /// <summary>Rows [i·MC, (i+1)·MC) of the slice x[:, K0 .. K0+Kc) into their strips.</summary>
    private struct PackSlice<TFormat> : IParallelWork where TFormat : struct, IPanelFormat
    {
        public TFormat Format;
        public float* X, Packed;
        public int M, Ldx, K0, Kc;

        public readonly void Execute(int index)
        {
            int i0 = index * MC;
            Format.PackActivations(X + (long)i0 * Ldx + K0, Ldx, Math.Min(MC, M - i0), Kc, Packed + (long)i0 * Format.Depth(Kc));
        }
    }

    /// <summary>One block of output rows and columns over the slice K0 .. K0+Kc.</summary>
    private struct Work<TFormat, TColumns> : IParallelWork
        where TFormat : struct, IPanelFormat
        where TColumns : struct, IColumnOperand
    {
        public TFormat Format;
        public float* Packed, Y;
        public int M, Ldy, ColumnChunks, ChunkColumns, ChunkRows, K0, Kc;
        public TColumns W;
        public bool Accumulate;

        public readonly void Execute(int index)
        {
            int m0 = index / ColumnChunks * ChunkRows, n0 = index % ColumnChunks * ChunkColumns;
            RunBlock(Format, Packed, m0, Math.Min(ChunkRows, M - m0), W, n0, Math.Min(ChunkColumns, W.Count - n0), K0, Kc,
                Y + (long)m0 * Ldy + n0, Ldy, Accumulate || K0 > 0);
        }
    }

    /// <summary>y[0 .. m, 0 .. nc) (+)= x[m0 .. m0+m, k0 .. k0+kc) · W[n0 .. n0+nc, k0 .. k0+kc)ᵀ on the calling thread, x read
    /// from its packed strips.</summary>
    private static void RunBlock<TFormat, TColumns>(TFormat format, float* packed, int m0, int m, in TColumns w, int n0, int nc, int k0, int kc,
        float* y, int ldy, bool add)
        where TFormat : struct, IPanelFormat
        where TColumns : struct, IColumnOperand
    {
        int mr = format.Rows, nr = format.Columns, depth = format.Depth(kc);
        var scratch = GemmScratch.Current;
        float* panel = scratch.Weights.Get((long)DivideUp(nc, nr) * nr * KC);
        float* rowBuffers = scratch.DecodedRows.Get((long)nr * KC);
        float* edge = scratch.EdgeTile.Get(mr * nr);
        w.Pack(format, n0, nc, k0, kc, panel, rowBuffers);
        for (int ir = 0; ir < m; ir += mr)
        {
            // A task can run for seconds at large sizes; MC rows are milliseconds.
            if (ir % MC == 0) ComputePool.ThrowIfCancelled();
            int rows = Math.Min(mr, m - ir);
            float* a = packed + (long)(m0 + ir) * depth;
            float* cRow = y + (long)ir * ldy;
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
