using Flux2.Cpu.Gemm;

namespace Flux2.Cpu.Kernels;

/// <summary>
/// The two inner products of <see cref="TiledAttention"/> on one register-tile microkernel, with the packing each needs:
/// the scores Sᵀ = K·Qᵀ ([key][query], <see cref="TiledAttention.QueryTile"/> floats per key row) and O += P·V with P
/// read from Sᵀ once the softmax has turned it into probabilities. Keys are counted from the first key the call packed.
/// </summary>
internal unsafe interface IAttentionProducts
{
    /// <summary>Keys per strip of Sᵀ's tiles, and queries per strip of P·V's.</summary>
    int Rows { get; }

    /// <summary>Queries per tile of Sᵀ, and head-dim columns per tile of P·V.</summary>
    int Columns { get; }

    /// <summary>The vector width of the softmax between the products: 16 (AVX-512) or 8 (AVX2) floats.</summary>
    int Lanes { get; }

    /// <summary>Floats of packed K for <paramref name="keys"/> keys (and of packed V: 0 when V is read in place).</summary>
    long KeyFloats(int keys, int dh);

    long ValueFloats(int keys, int dh);

    /// <summary>Floats of one packed query tile, and of the packed probabilities of one key tile (0: read in place).</summary>
    long QueryFloats(int dh);

    long ProbabilityFloats { get; }

    void PackKeys(float* k, long ldk, int keys, int dh, float* dst);

    void PackValues(float* v, long ldv, int keys, int dh, float* dst);

    /// <summary>Queries [0, rows) of the tile; queries up to <paramref name="columns"/> (a multiple of <see cref="Columns"/>) are zero.</summary>
    void PackQueries(float* q, long ldq, int rows, int columns, int dh, float* dst);

    /// <summary>Sᵀ[0 .. cols, 0 .. columns) for keys [key, key + cols) (key a multiple of <see cref="Rows"/>).</summary>
    void Scores(float* keys, int key, int cols, float* queries, int columns, int dh, float* st);

    /// <summary>acc[query, :] += Σ P[p, query] · V[key + p, :] over the tile's <paramref name="cols"/> keys, for the queries of
    /// <paramref name="strips"/> (a multiple of <see cref="Rows"/>); <paramref name="vTile"/> is V's row key in place.</summary>
    void AccumulateValues(float* st, int cols, int strips, float* vTile, long ldv, float* values, int key, int keys, int dh,
        float* probabilities, float* acc);
}

/// <summary>fp32 products on a <see cref="GemmKernel"/>: K and each query tile packed as the GEMM packs x, P and V read in
/// place through the kernel's strides.</summary>
internal readonly unsafe struct Float32AttentionProducts(GemmKernel kernel) : IAttentionProducts
{
    public int Rows => kernel.Rows;
    public int Columns => kernel.Columns;
    public int Lanes => kernel.Lanes;
    public long KeyFloats(int keys, int dh) => (long)TiledAttention.RoundUp(keys, kernel.Rows) * dh;
    public long ValueFloats(int keys, int dh) => 0;
    public long QueryFloats(int dh) => (long)dh * TiledAttention.QueryTile;
    public long ProbabilityFloats => 0;

    public void PackKeys(float* k, long ldk, int keys, int dh, float* dst) => PanelPacker.PackActivations(k, checked((int)ldk), keys, dh, kernel.Rows, dst);

    public void PackValues(float* v, long ldv, int keys, int dh, float* dst)
    {
    }

    public void PackQueries(float* q, long ldq, int rows, int columns, int dh, float* dst)
    {
        if (columns > TiledAttention.RoundUp(rows, kernel.Columns)) new Span<float>(dst, columns * dh).Clear();
        PanelPacker.PackActivations(q, checked((int)ldq), rows, dh, kernel.Columns, dst);
    }

    public void Scores(float* keys, int key, int cols, float* queries, int columns, int dh, float* st)
    {
        int mr = kernel.Rows, nr = kernel.Columns;
        for (int jr = 0; jr < cols; jr += mr)
            for (int ic = 0; ic < columns; ic += nr)
                kernel.Run(dh, keys + (long)(key + jr) * dh, mr, queries + (long)ic * dh, nr, st + jr * TiledAttention.QueryTile + ic,
                    TiledAttention.QueryTile, false);
    }

    public void AccumulateValues(float* st, int cols, int strips, float* vTile, long ldv, float* values, int key, int keys, int dh,
        float* probabilities, float* acc)
    {
        int mr = kernel.Rows, nr = kernel.Columns;
        for (int ir = 0; ir < strips; ir += mr)
            for (int jd = 0; jd < dh; jd += nr)
                kernel.Run(cols, st + ir, TiledAttention.QueryTile, vTile + jd, (nint)ldv, acc + (long)ir * dh + jd, dh, true);
    }
}
