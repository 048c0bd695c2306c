using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flux2.Cpu.Gemm;

namespace Flux2.Cpu.Kernels;

/// <summary>Which keys a query row may see; a struct so that the unmasked case costs nothing.</summary>
internal interface IKeyMask
{
    /// <summary>False when every key is visible to every row (no per-key test needed).</summary>
    bool Masks { get; }

    /// <summary>The keys any query row below <paramref name="queryEnd"/> may see lie in [Start, End) (causal attention and key
    /// padding at either end narrow it).</summary>
    (int Start, int End) KeyRange(int queryEnd, int keys);

    /// <summary>Whether key <paramref name="key"/> is a real token (key padding).</summary>
    bool KeyOn(int key);

    /// <summary>The first query row that may see key <paramref name="key"/> (causal attention: the key's own row).</summary>
    int FirstQuery(int key);
}

/// <summary>Every key visible: the DiT's joint attention and the VAE's mid-block attention.</summary>
internal readonly struct NoKeyMask : IKeyMask
{
    public bool Masks => false;
    public (int Start, int End) KeyRange(int queryEnd, int keys) => (0, keys);
    public bool KeyOn(int key) => true;
    public int FirstQuery(int key) => 0;
}

/// <summary>
/// Attention of a range of query rows of one head on a register-tile microkernel (the GEMM's, or the bf16 one through
/// <see cref="IAttentionProducts"/>), with both inner products reading packed or in-place operands: K is packed once per
/// call as the A operand of Sᵀ = K·Qᵀ, each query tile once as its B operand, and O += P·V reads P (the probabilities,
/// in Sᵀ's [key][query] layout) and V as the products want them. The online softmax runs down Sᵀ's columns, one vector
/// lane per query. Memory: the packed K (and V) of the call plus O(query tile · (key tile + head dim)); the score matrix
/// never exists. Needs a head dim that is a multiple of the kernel's column count; <see cref="FlashAttention"/> keeps its
/// own loops otherwise.
/// </summary>
internal static unsafe class TiledAttention
{
    /// <summary>Query rows per tile: a multiple of every kernel's rows (4, 6, 12) and columns (8, 16, 32).</summary>
    public const int QueryTile = 192;
    /// <summary>Keys per tile: a multiple of every kernel's rows, and even (the bf16 products pair keys).</summary>
    public const int KeyTile = 144;

    [ThreadStatic] private static float[]? t_tiles;
    [ThreadStatic] private static float[]? t_keys;
    [ThreadStatic] private static float[]? t_values;

    /// <summary>Whether <paramref name="products"/> can run heads of <paramref name="headDim"/>: its tiles divide the query
    /// and key tiles and the head dim, and the processor has the vector width of its softmax (16 floats with AVX-512, 8 with
    /// AVX2 and FMA).</summary>
    public static bool Supports<TProducts>(TProducts products, int headDim) where TProducts : struct, IAttentionProducts =>
        (products.Lanes == Lanes512.Count ? Lanes512.IsSupported : products.Lanes == Lanes256.Count && Lanes256.IsSupported)
        && headDim > 0 && headDim % products.Columns == 0 && QueryTile % products.Columns == 0 && QueryTile % products.Rows == 0
        && KeyTile % products.Rows == 0;

    /// <summary>o[r, :] = softmax(scale · q[r, :]·kᵀ over the visible keys) · v for query rows [rowStart, rowEnd) (pointers are
    /// to row 0); rows that see no key get zeros and, when <paramref name="noKeys"/> is not null, are flagged in
    /// noKeys[r − rowStart].</summary>
    public static void Run<TProducts, TMask>(TProducts products, float* q, long ldq, int rowStart, int rowEnd, float* k, long ldk, float* v,
        long ldv, int keys, int dh, float scale, float* o, long ldo, in TMask mask, bool* noKeys)
        where TProducts : struct, IAttentionProducts where TMask : struct, IKeyMask
    {
        int mr = products.Rows, nr = products.Columns;
        var (keyStart, keyLimit) = mask.KeyRange(rowEnd, keys);
        int keyCount = Math.Max(0, keyLimit - keyStart);
        float* kPack = Scratch(ref t_keys, products.KeyFloats(keyCount, dh));
        float* vPack = products.ValueFloats(keyCount, dh) is > 0 and var valueFloats ? Scratch(ref t_values, valueFloats) : null;
        long queryFloats = products.QueryFloats(dh);
        float* tiles = Scratch(ref t_tiles, queryFloats + (long)KeyTile * QueryTile + products.ProbabilityFloats + (long)QueryTile * dh + 3L * QueryTile);
        float* qPack = tiles;
        float* st = qPack + queryFloats;                                // [KeyTile][QueryTile]: scores, then probabilities
        float* pPack = st + (long)KeyTile * QueryTile;
        float* acc = pPack + products.ProbabilityFloats;                // [QueryTile][dh]
        float* rowMax = acc + (long)QueryTile * dh;
        float* rowSum = rowMax + QueryTile;
        float* correction = rowSum + QueryTile;
        if (keyCount > 0)
        {
            products.PackKeys(k + keyStart * ldk, ldk, keyCount, dh, kPack);
            products.PackValues(v + keyStart * ldv, ldv, keyCount, dh, vPack);
        }

        for (int i0 = rowStart; i0 < rowEnd; i0 += QueryTile)
        {
            int rows = Math.Min(QueryTile, rowEnd - i0);
            // Queries run in strips of mr for P·V and of nr for Sᵀ; both cover `columns`, whose padding queries are zero.
            int strips = RoundUp(rows, mr), columns = RoundUp(strips, nr);
            products.PackQueries(q + i0 * ldq, ldq, rows, columns, dh, qPack);
            new Span<float>(acc, QueryTile * dh).Clear();
            new Span<float>(rowMax, QueryTile).Fill(float.NegativeInfinity);
            new Span<float>(rowSum, QueryTile).Clear();

            int tileKeys = mask.KeyRange(i0 + rows, keys).End;
            for (int j0 = keyStart; j0 < tileKeys; j0 += KeyTile)
            {
                int cols = Math.Min(KeyTile, tileKeys - j0);
                products.Scores(kPack, j0 - keyStart, cols, qPack, columns, dh, st);
                if (products.Lanes == Lanes512.Count)
                    Softmax<Lanes512, Vector512<float>, TMask>(st, cols, columns, j0, i0, scale, in mask, rowMax, rowSum, correction);
                else
                    Softmax<Lanes256, Vector256<float>, TMask>(st, cols, columns, j0, i0, scale, in mask, rowMax, rowSum, correction);
                for (int r = 0; r < rows; r++)
                    if (correction[r] != 1f) Multiply(acc + (long)r * dh, dh, correction[r]);
                products.AccumulateValues(st, cols, strips, v + j0 * ldv, ldv, vPack, j0 - keyStart, keyCount, dh, pPack, acc);
            }

            for (int r = 0; r < rows; r++)
            {
                float* orow = o + (i0 + r) * ldo;
                bool empty = rowSum[r] == 0;
                if (noKeys != null) noKeys[i0 + r - rowStart] = empty;
                if (empty)
                {
                    new Span<float>(orow, dh).Clear();
                    continue;
                }
                float inv = 1f / rowSum[r];
                float* arow = acc + (long)r * dh;
                for (int d = 0; d < dh; d++) orow[d] = arow[d] * inv;
            }
        }
    }

    /// <summary>
    /// The online softmax of one key tile, down the columns of Sᵀ [cols][QueryTile] (one query per column): every column's
    /// running max (of scale·s over its visible keys) grows to cover the tile, <paramref name="correction"/> receives
    /// exp(old max − new max) for rescaling the column's output (1 when unchanged), and Sᵀ becomes exp(scale·s − max)
    /// (0 for hidden keys and where nothing is visible yet), summed into the running sums. The max is taken on the raw
    /// scores (scale &gt; 0 commutes with it), so the scores are read twice and written once.
    /// </summary>
    private static void Softmax<TLanes, TV, TMask>(float* st, int cols, int columns, int firstKey, int firstQuery, float scale, in TMask mask,
        float* rowMax, float* rowSum, float* correction) where TLanes : IFloatLanes<TV> where TV : struct where TMask : struct, IKeyMask
    {
        var factor = TLanes.Splat(scale);
        var negativeInfinity = TLanes.Splat(float.NegativeInfinity);
        var zero = TLanes.Splat(0f);
        for (int c = 0; c < columns; c += TLanes.Count)
        {
            var tileMax = negativeInfinity;
            for (int p = 0; p < cols; p++)
            {
                var s = TLanes.Load(st + p * QueryTile + c);
                if (mask.Masks) s = TLanes.Select(Hidden<TLanes, TV, TMask>(mask, firstKey + p, firstQuery, c), negativeInfinity, s);
                tileMax = TLanes.Max(tileMax, s);
            }
            var old = TLanes.Load(rowMax + c);
            var max = TLanes.Max(old, TLanes.Multiply(tileMax, factor));
            TLanes.Store(max, rowMax + c);
            // exp(−∞ − −∞) would be NaN: an unchanged max (visible or not) needs no correction.
            var same = TLanes.Equal(old, max);
            var corr = TLanes.Select(same, TLanes.Splat(1f), VectorExp.Exp<TLanes, TV>(TLanes.Subtract(old, max)));
            TLanes.Store(corr, correction + c);

            var nothingVisible = TLanes.Equal(max, negativeInfinity);
            var negativeMax = TLanes.Subtract(zero, max);
            var sum = zero;
            for (int p = 0; p < cols; p++)
            {
                float* at = st + p * QueryTile + c;
                var e = VectorExp.Exp<TLanes, TV>(TLanes.FusedMultiplyAdd(TLanes.Load(at), factor, negativeMax));
                var hidden = nothingVisible;
                if (mask.Masks) hidden = TLanes.Or(hidden, Hidden<TLanes, TV, TMask>(mask, firstKey + p, firstQuery, c));
                e = TLanes.Select(hidden, zero, e);
                TLanes.Store(e, at);
                sum = TLanes.Add(sum, e);
            }
            TLanes.Store(TLanes.Add(TLanes.Multiply(TLanes.Load(rowSum + c), corr), sum), rowSum + c);
        }
    }

    /// <summary>All-ones lanes for the queries firstQuery + c, ... (one per lane) that may not see key <paramref name="key"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Hidden<TLanes, TV, TMask>(in TMask mask, int key, int firstQuery, int c)
        where TLanes : IFloatLanes<TV> where TV : struct where TMask : struct, IKeyMask
    {
        int hidden = mask.KeyOn(key) ? Math.Clamp(mask.FirstQuery(key) - firstQuery, 0, QueryTile) : QueryTile;
        return c < hidden ? TLanes.LessThan(TLanes.Add(TLanes.Splat(c), TLanes.Indices), TLanes.Splat(hidden)) : TLanes.Splat(0f);
    }

    internal static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static void Multiply(float* x, int n, float factor)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (var f = Vector256.Create(factor); i + 8 <= n; i += 8) (Vector256.Load(x + i) * f).Store(x + i);
        for (; i < n; i++) x[i] *= factor;
    }

    /// <summary>A 64-byte aligned per-thread buffer of at least <paramref name="floats"/>, grown only when too small.</summary>
    private static float* Scratch(ref float[]? buffer, long floats)
    {
        if (buffer == null || buffer.Length < floats + 16) buffer = GC.AllocateUninitializedArray<float>(checked((int)(floats + 16)), pinned: true);
        return (float*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)) + 63) & ~(nint)63);
    }
}
