using System.Runtime.Intrinsics;
using Flux2.Core.Backend;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels.Text;

/// <summary>
/// Causal, key-padding-masked grouped-query attention for the LLM text encoders, flash style: one work item
/// is a tile of <see cref="QueryTile"/> query rows of one head; keys stream through in tiles of
/// <see cref="KeyTile"/> with an online softmax, so memory stays O(tile · head_dim) on the stack and nothing
/// is allocated. Head dims the GEMM microkernel's width divides (Qwen3 and Mistral: 128) run their inner products on it
/// through <see cref="TiledAttention"/>. Scalar twin: <see cref="CausalMaskedAttentionReference"/>.
/// Layouts: q, o [B, L, Hq, D]; k, v [B, L, Hkv, D]; keyMask [B, L] (nonzero = real token).
/// </summary>
public static unsafe class CausalMaskedAttention
{
    public const int QueryTile = 16;
    public const int KeyTile = 64;
    /// <summary>Bounds the per-item stack scratch (QueryTile · D floats of accumulators).</summary>
    public const int MaxHeadDim = 512;

    public static void Run(ComputePool pool, float* q, float* k, float* v, long* keyMask, float* o,
        int batch, int length, int qHeads, int kvHeads, int headDim, FullyMaskedRows fullyMaskedRows) =>
        Run(pool, q, k, v, keyMask, o, batch, length, qHeads, kvHeads, headDim, fullyMaskedRows, bf16: null);

    /// <param name="bf16">with a bf16 kernel, the microkernel path's products run in bf16 (<see cref="Bf16AttentionProducts"/>)</param>
    /// <param name="kernel">the fp32 products' microkernel (default: the widest this processor runs)</param>
    internal static void Run(ComputePool pool, float* q, float* k, float* v, long* keyMask, float* o,
        int batch, int length, int qHeads, int kvHeads, int headDim, FullyMaskedRows fullyMaskedRows, Bf16MicroKernel? bf16,
        GemmKernel? kernel = null)
    {
        if (headDim < 1 || headDim > MaxHeadDim) throw new ArgumentOutOfRangeException(nameof(headDim), headDim, $"head dim must be in [1, {MaxHeadDim}]");
        if (kvHeads < 1 || qHeads % kvHeads != 0) throw new ArgumentException($"{qHeads} query heads cannot be grouped over {kvHeads} KV heads");
        float scale = 1f / MathF.Sqrt(headDim);
        var fp32 = new Float32AttentionProducts(kernel ?? GemmKernel.Best);
        if (TiledAttention.Supports(fp32, headDim))
        {
            int chunks = Math.Min((length + TiledAttention.QueryTile - 1) / TiledAttention.QueryTile,
                Math.Max(1, (2 * pool.ThreadCount + batch * qHeads - 1) / (batch * qHeads)));
            if (bf16 != null) RunTiled(pool, new Bf16AttentionProducts(bf16), q, k, v, keyMask, o, batch, length, qHeads, kvHeads, headDim, scale, chunks, fullyMaskedRows);
            else RunTiled(pool, fp32, q, k, v, keyMask, o, batch, length, qHeads, kvHeads, headDim, scale, chunks, fullyMaskedRows);
            return;
        }
        int tiles = (length + QueryTile - 1) / QueryTile;
        var work = new Work
        {
            Q = q, K = k, V = v, Mask = keyMask, O = o, Length = length, QHeads = qHeads, KvHeads = kvHeads,
            HeadDim = headDim, Tiles = tiles, Scale = scale, FullyMaskedRows = fullyMaskedRows,
        };
        pool.For(batch * qHeads * tiles, work);
    }

    /// <summary>Causal and key-padding visibility; padding before the first and after the last real key is never visited.</summary>
    private readonly struct CausalKeyMask(long* keyMask, int firstReal, int lastReal) : IKeyMask
    {
        public bool Masks => true;
        public (int Start, int End) KeyRange(int queryEnd, int keys) => (firstReal, Math.Min(Math.Min(keys, queryEnd), lastReal + 1));
        public bool KeyOn(int key) => keyMask[key] != 0;
        public int FirstQuery(int key) => key;

        public static CausalKeyMask For(long* keyMask, int length)
        {
            int first = 0, last = length - 1;
            while (first < length && keyMask[first] == 0) first++;
            while (last >= 0 && keyMask[last] == 0) last--;
            return new CausalKeyMask(keyMask, first, last);
        }
    }

    private static void RunTiled<TProducts>(ComputePool pool, TProducts products, float* q, float* k, float* v, long* keyMask, float* o,
        int batch, int length, int qHeads, int kvHeads, int headDim, float scale, int chunks, FullyMaskedRows fullyMaskedRows)
        where TProducts : struct, IAttentionProducts =>
        pool.For(batch * qHeads * chunks, new TiledWork<TProducts>
        {
            Products = products, Q = q, K = k, V = v, Mask = keyMask, O = o, Length = length, QHeads = qHeads, KvHeads = kvHeads,
            HeadDim = headDim, Chunks = chunks, ChunkRows = (length + chunks - 1) / chunks, Scale = scale, FullyMaskedRows = fullyMaskedRows,
        });

    /// <summary>One (batch, head, chunk of query rows) on a microkernel (<see cref="TiledAttention"/>).</summary>
    private struct TiledWork<TProducts> : IParallelWork where TProducts : struct, IAttentionProducts
    {
        public TProducts Products;
        public float* Q, K, V, O;
        public long* Mask;
        public int Length, QHeads, KvHeads, HeadDim, Chunks, ChunkRows;
        public float Scale;
        public FullyMaskedRows FullyMaskedRows;

        public readonly void Execute(int index)
        {
            int chunk = index % Chunks, h = index / Chunks % QHeads, b = index / Chunks / QHeads;
            int r0 = chunk * ChunkRows, r1 = Math.Min(Length, r0 + ChunkRows);
            if (r0 >= r1) return;
            int kvh = h / (QHeads / KvHeads), d = HeadDim;
            long qStride = (long)QHeads * d, kvStride = (long)KvHeads * d;
            float* vBase = V + ((long)b * Length * KvHeads + kvh) * d;
            float* oBase = O + ((long)b * Length * QHeads + h) * d;
            bool* noKeys = stackalloc bool[r1 - r0];
            TiledAttention.Run(Products, Q + ((long)b * Length * QHeads + h) * d, qStride, r0, r1, K + ((long)b * Length * KvHeads + kvh) * d, kvStride,
                vBase, kvStride, Length, d, Scale, oBase, qStride, CausalKeyMask.For(Mask + (long)b * Length, Length), noKeys);
            if (FullyMaskedRows == FullyMaskedRows.Zero) return; // such rows are already zero
            float* uniform = stackalloc float[d];
            bool uniformReady = false;
            for (int r = r0; r < r1; r++)
            {
                if (!noKeys[r - r0]) continue;
                if (!uniformReady)
                {
                    MeanOfRows(vBase, Length, kvStride, d, uniform);
                    uniformReady = true;
                }
                new Span<float>(uniform, d).CopyTo(new Span<float>(oBase + r * qStride, d));
            }
        }
    }

    private struct Work : IParallelWork
    {
        public float* Q, K, V, O;
        public long* Mask;
        public int Length, QHeads, KvHeads, HeadDim, Tiles;
        public float Scale;
        public FullyMaskedRows FullyMaskedRows;

        public void Execute(int index)
        {
            int tile = index % Tiles;
            int h = index / Tiles % QHeads;
            int b = index / Tiles / QHeads;
            int kvh = h / (QHeads / KvHeads);
            int d = HeadDim;
            int i0 = tile * QueryTile;
            int rows = Math.Min(QueryTile, Length - i0);
            long qStride = (long)QHeads * d, kvStride = (long)KvHeads * d;
            float* qBase = Q + ((long)b * Length * QHeads + h) * d;
            float* kBase = K + ((long)b * Length * KvHeads + kvh) * d;
            float* vBase = V + ((long)b * Length * KvHeads + kvh) * d;
            float* oBase = O + ((long)b * Length * QHeads + h) * d;
            long* mask = Mask + (long)b * Length;

            float* acc = stackalloc float[QueryTile * d];
            float* scores = stackalloc float[KeyTile];
            float* rowMax = stackalloc float[QueryTile];
            float* rowSum = stackalloc float[QueryTile];
            float* uniform = stackalloc float[d];
            bool uniformReady = false;
            new Span<float>(acc, rows * d).Clear();
            for (int r = 0; r < rows; r++) { rowMax[r] = float.NegativeInfinity; rowSum[r] = 0; }

            int keyEnd = i0 + rows; // causal: no row of this tile sees a key at or beyond i0 + rows
            for (int j0 = 0; j0 < keyEnd; j0 += KeyTile)
            {
                int cols = Math.Min(KeyTile, keyEnd - j0);
                for (int r = 0; r < rows; r++)
                {
                    int i = i0 + r;
                    float* qi = qBase + i * qStride;
                    int visible = Math.Min(cols, i - j0 + 1);
                    float tileMax = float.NegativeInfinity;
                    for (int c = 0; c < visible; c++)
                    {
                        if (mask[j0 + c] == 0) { scores[c] = float.NegativeInfinity; continue; }
                        float s = Dot(qi, kBase + (j0 + c) * kvStride, d) * Scale;
                        scores[c] = s;
                        if (s > tileMax) tileMax = s;
                    }
                    if (tileMax == float.NegativeInfinity) continue; // nothing visible here for this row

                    float* accRow = acc + r * d;
                    float newMax = Math.Max(rowMax[r], tileMax);
                    if (newMax != rowMax[r])
                    {
                        float correction = MathF.Exp(rowMax[r] - newMax); // 0 on the first visible key
                        rowSum[r] *= correction;
                        ScaleInPlace(accRow, correction, d);
                        rowMax[r] = newMax;
                    }
                    float sum = 0;
                    for (int c = 0; c < visible; c++)
                    {
                        if (scores[c] == float.NegativeInfinity) continue;
                        float p = MathF.Exp(scores[c] - newMax);
                        sum += p;
                        AddScaled(accRow, p, vBase + (j0 + c) * kvStride, d);
                    }
                    rowSum[r] += sum;
                }
            }

            for (int r = 0; r < rows; r++)
            {
                float* oi = oBase + (i0 + r) * qStride;
                if (rowSum[r] > 0)
                {
                    float inv = 1f / rowSum[r];
                    float* accRow = acc + r * d;
                    for (int e = 0; e < d; e++) oi[e] = accRow[e] * inv;
                }
                else if (FullyMaskedRows == FullyMaskedRows.Zero)
                {
                    new Span<float>(oi, d).Clear();
                }
                else
                {
                    if (!uniformReady)
                    {
                        // The mean of every value row, computed once per tile and only when a row needs it.
                        MeanOfRows(vBase, Length, kvStride, d, uniform);
                        uniformReady = true;
                    }
                    new Span<float>(uniform, d).CopyTo(new Span<float>(oi, d));
                }
            }
        }
    }

    private static void MeanOfRows(float* rows, int count, long stride, int d, float* mean)
    {
        new Span<float>(mean, d).Clear();
        for (int j = 0; j < count; j++) AddScaled(mean, 1f, rows + j * stride, d);
        float inv = 1f / count;
        for (int e = 0; e < d; e++) mean[e] *= inv;
    }

    private static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 2 * Vector256<float>.Count)
        {
            var s0 = Vector256<float>.Zero;
            var s1 = Vector256<float>.Zero;
            for (; i + 2 * Vector256<float>.Count <= n; i += 2 * Vector256<float>.Count)
            {
                s0 += Vector256.Load(a + i) * Vector256.Load(b + i);
                s1 += Vector256.Load(a + i + Vector256<float>.Count) * Vector256.Load(b + i + Vector256<float>.Count);
            }
            s = Vector256.Sum(s0 + s1);
        }
        for (; i < n; i++) s += a[i] * b[i];
        return s;
    }

    private static void AddScaled(float* y, float a, float* x, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var av = Vector256.Create(a);
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                Vector256.Store(Vector256.Load(y + i) + av * Vector256.Load(x + i), y + i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    private static void ScaleInPlace(float* y, float a, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var av = Vector256.Create(a);
            for (; i + Vector256<float>.Count <= n; i += Vector256<float>.Count)
                Vector256.Store(Vector256.Load(y + i) * av, y + i);
        }
        for (; i < n; i++) y[i] *= a;
    }
}
