using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// The attention products of <see cref="Core.Backend.ComputePrecision.BFloat16"/> on <see cref="Bf16MicroKernel"/>: q, k,
/// the probabilities and v rounded to bf16, every sum in fp32 (the softmax stays fp32). K and each query tile are packed
/// as pairs along the head dim; V once per call as pairs of keys in 32-column slabs; each key tile's probabilities as pairs
/// of keys for all queries, which the kernel reads strip by strip with its A stride.
/// </summary>
internal readonly unsafe struct Bf16AttentionProducts(Bf16MicroKernel kernel) : IAttentionProducts
{
    private const int QueryTile = TiledAttention.QueryTile;

    public int Rows => Bf16MicroKernel.Rows;
    public int Columns => Bf16MicroKernel.Columns;
    public int Lanes => Lanes512.Count;
    public long KeyFloats(int keys, int dh) => (long)TiledAttention.RoundUp(keys, Rows) * (dh / 2);
    public long ValueFloats(int keys, int dh) => (long)Pairs(keys) * dh;
    public long QueryFloats(int dh) => (long)QueryTile * (dh / 2);
    public long ProbabilityFloats => (long)Pairs(TiledAttention.KeyTile) * QueryTile;

    public void PackKeys(float* k, long ldk, int keys, int dh, float* dst) => Bf16Panels.PackRows(k, ldk, keys, dh, Rows, dst);

    /// <summary>[dh / 32][⌈keys / 2⌉][32] words: slab s, pair p holds keys 2p and 2p+1 (zero past the last key).</summary>
    public void PackValues(float* v, long ldv, int keys, int dh, float* dst)
    {
        int pairs = Pairs(keys);
        for (int s = 0; s < dh / Columns; s++)
            for (int p = 0; p < pairs; p++)
            {
                float* first = v + 2L * p * ldv + s * Columns;
                Bf16Panels.PairRows(first, 2 * p + 1 < keys ? first + ldv : null, Columns, (uint*)dst + ((long)s * pairs + p) * Columns);
            }
    }

    public void PackQueries(float* q, long ldq, int rows, int columns, int dh, float* dst)
    {
        if (columns > TiledAttention.RoundUp(rows, Columns)) new Span<float>(dst, columns * (dh / 2)).Clear();
        Bf16Panels.PackRows(q, ldq, rows, dh, Columns, dst);
    }

    public void Scores(float* keys, int key, int cols, float* queries, int columns, int dh, float* st)
    {
        int pairs = dh / 2;
        for (int jr = 0; jr < cols; jr += Rows)
            for (int ic = 0; ic < columns; ic += Columns)
                kernel.Run(pairs, (uint*)keys + (long)(key + jr) * pairs, Rows, (uint*)queries + (long)ic * pairs, st + jr * QueryTile + ic,
                    QueryTile, false);
    }

    public void AccumulateValues(float* st, int cols, int strips, float* vTile, long ldv, float* values, int key, int keys, int dh,
        float* probabilities, float* acc)
    {
        int pairs = Pairs(cols), width = TiledAttention.RoundUp(strips, 16);
        uint* p = (uint*)probabilities;
        for (int k = 0; k < pairs; k++)
            Bf16Panels.PairRows(st + 2 * k * QueryTile, 2 * k + 1 < cols ? st + (2 * k + 1) * QueryTile : null, width, p + (long)k * QueryTile);
        long slab = (long)Pairs(keys) * Columns;
        uint* tile = (uint*)values + key / 2 * Columns; // key is even: tiles start at multiples of the (even) key tile
        for (int ir = 0; ir < strips; ir += Rows)
            for (int jd = 0; jd < dh; jd += Columns)
                kernel.Run(pairs, p + ir, QueryTile, tile + jd / Columns * slab, acc + (long)ir * dh + jd, dh, true);
    }

    private static int Pairs(int count) => (count + 1) / 2;
}
