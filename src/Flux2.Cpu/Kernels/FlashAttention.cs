using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Flux2.Cpu.Gemm;
using Flux2.Cpu.Gemm.Jit;
using Flux2.Cpu.Threading;

namespace Flux2.Cpu.Kernels;

/// <summary>The operands of one attention call: batch × rows of heads·headDim values starting at a pointer,
/// with a row stride (q, k, v may be column ranges of one fused projection buffer).</summary>
public unsafe readonly struct AttentionOperand(float* data, int rows, int rowStride)
{
    public readonly float* Data = data;
    public readonly int Rows = rows;
    public readonly int RowStride = rowStride;
    /// <summary>Batches are stored one after another.</summary>
    public long BatchStride => (long)Rows * RowStride;
}

/// <summary>
/// Softmax attention without a mask, O = softmax(scale·Q·Kᵀ)·V per (batch, head), for any head dim. Tiled with an
/// online softmax (flash style): memory is O(query tile × (key tile + head dim)) per thread, never the score matrix.
/// Work items are (batch, head, query tile) on the pool. Head dims the GEMM microkernel's width divides (128 in every
/// FLUX.2 model) run on it through <see cref="TiledAttention"/>; others use the dot-product loops below.
/// Scalar twin: <see cref="FlashAttentionReference"/>.
/// </summary>
public static unsafe class FlashAttention
{
    public const int QueryTile = 64;
    public const int KeyTile = 128;

    [ThreadStatic] private static float[]? t_scratch;

    public static void Run(ComputePool pool, AttentionOperand q, AttentionOperand k, AttentionOperand v, AttentionOperand o,
        int batch, int heads, int headDim, float scale) =>
        Run(pool, q, k, v, o, batch, heads, headDim, scale, bf16: null);

    /// <param name="bf16">with a bf16 kernel, the microkernel path's products round q, k, the probabilities and v to bf16
    /// (<see cref="Bf16AttentionProducts"/>); the other head dims stay fp32</param>
    /// <param name="kernel">the fp32 products' microkernel (default: the widest this processor runs)</param>
    internal static void Run(ComputePool pool, AttentionOperand q, AttentionOperand k, AttentionOperand v, AttentionOperand o,
        int batch, int heads, int headDim, float scale, Bf16MicroKernel? bf16, GemmKernel? kernel = null)
    {
        if (k.Rows != v.Rows || q.Rows != o.Rows) throw new ArgumentException("k/v and q/o row counts differ");
        if (q.Rows == 0) return;
        var fp32 = new Float32AttentionProducts(kernel ?? GemmKernel.Best);
        if (TiledAttention.Supports(fp32, headDim))
        {
            // One item per (batch, head, chunk of rows); chunks only where there are too few heads to keep every thread busy.
            int chunks = Math.Min((q.Rows + TiledAttention.QueryTile - 1) / TiledAttention.QueryTile,
                Math.Max(1, (2 * pool.ThreadCount + batch * heads - 1) / (batch * heads)));
            int chunkRows = (q.Rows + chunks - 1) / chunks;
            if (bf16 != null) RunTiled(pool, new Bf16AttentionProducts(bf16), q, k, v, o, batch, heads, headDim, scale, chunks, chunkRows);
            else RunTiled(pool, fp32, q, k, v, o, batch, heads, headDim, scale, chunks, chunkRows);
            return;
        }
        int tiles = (q.Rows + QueryTile - 1) / QueryTile;
        var work = new Work { Q = q, K = k, V = v, O = o, Heads = heads, HeadDim = headDim, Scale = scale, Tiles = tiles };
        pool.For(batch * heads * tiles, work);
    }

    private static void RunTiled<TProducts>(ComputePool pool, TProducts products, AttentionOperand q, AttentionOperand k, AttentionOperand v,
        AttentionOperand o, int batch, int heads, int headDim, float scale, int chunks, int chunkRows) where TProducts : struct, IAttentionProducts =>
        pool.For(batch * heads * chunks, new TiledWork<TProducts>
        {
            Products = products, Q = q, K = k, V = v, O = o, Heads = heads, HeadDim = headDim, Scale = scale, Chunks = chunks, ChunkRows = chunkRows,
        });

    /// <summary>One (batch, head, chunk of query rows) on a microkernel.</summary>
    private struct TiledWork<TProducts> : IParallelWork where TProducts : struct, IAttentionProducts
    {
        public TProducts Products;
        public AttentionOperand Q, K, V, O;
        public int Heads, HeadDim, Chunks, ChunkRows;
        public float Scale;

        public readonly void Execute(int index)
        {
            int chunk = index % Chunks, head = index / Chunks % Heads, b = index / Chunks / Heads;
            int r0 = chunk * ChunkRows, r1 = Math.Min(Q.Rows, r0 + ChunkRows);
            if (r0 >= r1) return;
            long column = (long)head * HeadDim;
            TiledAttention.Run(Products, Q.Data + b * Q.BatchStride + column, Q.RowStride, r0, r1, K.Data + b * K.BatchStride + column, K.RowStride,
                V.Data + b * V.BatchStride + column, V.RowStride, K.Rows, HeadDim, Scale, O.Data + b * O.BatchStride + column, O.RowStride,
                new NoKeyMask(), noKeys: null);
        }
    }

    private struct Work : IParallelWork
    {
        public AttentionOperand Q, K, V, O;
        public int Heads, HeadDim, Tiles;
        public float Scale;

        public void Execute(int index)
        {
            int tile = index % Tiles;
            int head = index / Tiles % Heads;
            int b = index / Tiles / Heads;
            int dh = HeadDim;
            int i0 = tile * QueryTile;
            int rows = Math.Min(QueryTile, Q.Rows - i0);

            int need = QueryTile * KeyTile + QueryTile * dh + 2 * QueryTile;
            if (t_scratch == null || t_scratch.Length < need) t_scratch = GC.AllocateUninitializedArray<float>(need, pinned: true);
            float* scores = (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(t_scratch));
            float* acc = scores + QueryTile * KeyTile;
            float* rowMax = acc + QueryTile * dh;
            float* rowSum = rowMax + QueryTile;

            float* q = Q.Data + b * Q.BatchStride + (long)i0 * Q.RowStride + (long)head * dh;
            float* k = K.Data + b * K.BatchStride + (long)head * dh;
            float* v = V.Data + b * V.BatchStride + (long)head * dh;
            new Span<float>(acc, rows * dh).Clear();
            for (int i = 0; i < rows; i++)
            {
                rowMax[i] = float.NegativeInfinity;
                rowSum[i] = 0;
            }

            for (int j0 = 0; j0 < K.Rows; j0 += KeyTile)
            {
                int keys = Math.Min(KeyTile, K.Rows - j0);
                float* kt = k + (long)j0 * K.RowStride;
                float* vt = v + (long)j0 * V.RowStride;
                int i = 0;
                for (; i + 4 <= rows; i += 4)
                    for (int j = 0; j < keys; j++)
                        Dot4(q + (long)i * Q.RowStride, Q.RowStride, kt + (long)j * K.RowStride, dh, scores + i * KeyTile + j, KeyTile);
                for (; i < rows; i++)
                    for (int j = 0; j < keys; j++)
                        scores[i * KeyTile + j] = Dot1(q + (long)i * Q.RowStride, kt + (long)j * K.RowStride, dh);

                for (i = 0; i < rows; i++) Softmax(scores + i * KeyTile, keys, Scale, ref rowMax[i], ref rowSum[i], acc + (long)i * dh, dh);

                i = 0;
                for (; i + 4 <= rows; i += 4) Accumulate4(scores + i * KeyTile, KeyTile, keys, vt, V.RowStride, acc + (long)i * dh, dh);
                for (; i < rows; i++) Accumulate1(scores + i * KeyTile, keys, vt, V.RowStride, acc + (long)i * dh, dh);
            }

            float* o = O.Data + b * O.BatchStride + (long)i0 * O.RowStride + (long)head * dh;
            for (int i = 0; i < rows; i++)
            {
                float inv = 1f / rowSum[i];
                for (int d = 0; d < dh; d++) o[(long)i * O.RowStride + d] = acc[(long)i * dh + d] * inv;
            }
        }
    }

    /// <summary>Scores of 4 query rows against one key (raw dot products; the scale is applied in the softmax).</summary>
    private static void Dot4(float* q, int ldq, float* k, int n, float* s, int lds)
    {
        float* q1 = q + ldq, q2 = q1 + ldq, q3 = q2 + ldq;
        int d = 0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; d + 8 <= n; d += 8)
            {
                var kv = Vector256.Load(k + d);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), kv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(q1 + d), kv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(q2 + d), kv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(q3 + d), kv, a3);
            }
            s0 = Vector256.Sum(a0);
            s1 = Vector256.Sum(a1);
            s2 = Vector256.Sum(a2);
            s3 = Vector256.Sum(a3);
        }
        for (; d < n; d++)
        {
            s0 += q[d] * k[d];
            s1 += q1[d] * k[d];
            s2 += q2[d] * k[d];
            s3 += q3[d] * k[d];
        }
        s[0] = s0;
        s[lds] = s1;
        s[2 * lds] = s2;
        s[3 * lds] = s3;
    }

    private static float Dot1(float* q, float* k, int n)
    {
        int d = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var a = Vector256<float>.Zero;
            for (; d + 8 <= n; d += 8) a = Vector256.FusedMultiplyAdd(Vector256.Load(q + d), Vector256.Load(k + d), a);
            s = Vector256.Sum(a);
        }
        for (; d < n; d++) s += q[d] * k[d];
        return s;
    }

    /// <summary>Online softmax of one row of a key tile: turns the raw scores into exp(scale·s − max), rescales the
    /// row's running sum and output accumulator to the new max.</summary>
    private static void Softmax(float* s, int keys, float scale, ref float max, ref float sum, float* acc, int dh)
    {
        float tileMax = float.NegativeInfinity;
        for (int j = 0; j < keys; j++)
        {
            s[j] *= scale;
            tileMax = MathF.Max(tileMax, s[j]);
        }
        float newMax = MathF.Max(max, tileMax);
        if (newMax > max && sum != 0)
        {
            float correction = MathF.Exp(max - newMax);
            sum *= correction;
            for (int d = 0; d < dh; d++) acc[d] *= correction;
        }
        max = newMax;
        int jj = 0;
        float tileSum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var m = Vector256.Create(newMax);
            var total = Vector256<float>.Zero;
            for (; jj + 8 <= keys; jj += 8)
            {
                var e = Vector256.Exp(Vector256.Load(s + jj) - m);
                Vector256.Store(e, s + jj);
                total += e;
            }
            tileSum = Vector256.Sum(total);
        }
        for (; jj < keys; jj++)
        {
            s[jj] = MathF.Exp(s[jj] - newMax);
            tileSum += s[jj];
        }
        sum += tileSum;
    }

    /// <summary>acc[r, :] += Σ_j p[r, j] · v[j, :] for 4 rows, one 8-wide column chunk at a time so the 4 accumulators stay in registers.</summary>
    private static void Accumulate4(float* p, int ldp, int keys, float* v, int ldv, float* acc, int dh)
    {
        float* p1 = p + ldp, p2 = p1 + ldp, p3 = p2 + ldp;
        int d = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; d + 8 <= dh; d += 8)
            {
                var a0 = Vector256.Load(acc + d);
                var a1 = Vector256.Load(acc + dh + d);
                var a2 = Vector256.Load(acc + 2 * dh + d);
                var a3 = Vector256.Load(acc + 3 * dh + d);
                float* vj = v + d;
                for (int j = 0; j < keys; j++, vj += ldv)
                {
                    var vv = Vector256.Load(vj);
                    a0 = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), vv, a0);
                    a1 = Vector256.FusedMultiplyAdd(Vector256.Create(p1[j]), vv, a1);
                    a2 = Vector256.FusedMultiplyAdd(Vector256.Create(p2[j]), vv, a2);
                    a3 = Vector256.FusedMultiplyAdd(Vector256.Create(p3[j]), vv, a3);
                }
                Vector256.Store(a0, acc + d);
                Vector256.Store(a1, acc + dh + d);
                Vector256.Store(a2, acc + 2 * dh + d);
                Vector256.Store(a3, acc + 3 * dh + d);
            }
        }
        for (; d < dh; d++)
        {
            float a0 = acc[d], a1 = acc[dh + d], a2 = acc[2 * dh + d], a3 = acc[3 * dh + d];
            for (int j = 0; j < keys; j++)
            {
                float vv = v[(long)j * ldv + d];
                a0 += p[j] * vv;
                a1 += p1[j] * vv;
                a2 += p2[j] * vv;
                a3 += p3[j] * vv;
            }
            acc[d] = a0;
            acc[dh + d] = a1;
            acc[2 * dh + d] = a2;
            acc[3 * dh + d] = a3;
        }
    }

    private static void Accumulate1(float* p, int keys, float* v, int ldv, float* acc, int dh)
    {
        int d = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; d + 8 <= dh; d += 8)
            {
                var a = Vector256.Load(acc + d);
                float* vj = v + d;
                for (int j = 0; j < keys; j++, vj += ldv) a = Vector256.FusedMultiplyAdd(Vector256.Create(p[j]), Vector256.Load(vj), a);
                Vector256.Store(a, acc + d);
            }
        }
        for (; d < dh; d++)
        {
            float a = acc[d];
            for (int j = 0; j < keys; j++) a += p[j] * v[(long)j * ldv + d];
            acc[d] = a;
        }
    }
}

/// <summary>The scalar oracle of <see cref="FlashAttention"/>: the whole score row, max-subtracted softmax, float64 sums.</summary>
public static unsafe class FlashAttentionReference
{
    public static void Run(AttentionOperand q, AttentionOperand k, AttentionOperand v, AttentionOperand o,
        int batch, int heads, int headDim, float scale)
    {
        var scores = new double[k.Rows];
        for (int b = 0; b < batch; b++)
        for (int h = 0; h < heads; h++)
        for (int i = 0; i < q.Rows; i++)
        {
            float* qi = q.Data + b * q.BatchStride + (long)i * q.RowStride + (long)h * headDim;
            double max = double.NegativeInfinity;
            for (int j = 0; j < k.Rows; j++)
            {
                float* kj = k.Data + b * k.BatchStride + (long)j * k.RowStride + (long)h * headDim;
                double s = 0;
                for (int d = 0; d < headDim; d++) s += (double)qi[d] * kj[d];
                scores[j] = s * scale;
                max = Math.Max(max, scores[j]);
            }
            double sum = 0;
            for (int j = 0; j < k.Rows; j++) sum += scores[j] = Math.Exp(scores[j] - max);
            float* oi = o.Data + b * o.BatchStride + (long)i * o.RowStride + (long)h * headDim;
            for (int d = 0; d < headDim; d++)
            {
                double acc = 0;
                for (int j = 0; j < k.Rows; j++) acc += scores[j] * v.Data[b * v.BatchStride + (long)j * v.RowStride + (long)h * headDim + d];
                oi[d] = (float)(acc / sum);
            }
        }
    }
}
