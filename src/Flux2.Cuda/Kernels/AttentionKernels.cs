namespace Flux2.Cuda.Kernels;

/// <summary>
/// Flash attention: O = softmax(scale·Q·Kᵀ)·V per (batch, head) with an online softmax, scores, running maximum, sum and
/// output accumulated in fp32, so memory stays O(tokens·headDim). A block of 4 warps takes 16 query rows (4 per warp) of
/// one (batch, head); K and V pass through shared memory as fp32 in tiles of 32 keys. Each lane scores one key of the
/// tile against its warp's queries; the output dims are spread over the lanes (dim lane + 32·c for c &lt; CHUNKS), so
/// head dims up to 32·CHUNKS = 128 are served, 128 (FLUX.2) and small ones alike. One kernel serves both attention ops:
/// the DiT's unmasked attention (IBackend.Attention) and the text encoders' causal, key-masked, grouped-query attention
/// (IBackend.CausalMaskedAttention), whose causal blocks stop at their last query's key. This is the plain SIMT form; a
/// tensor-core (mma.sync / wgmma) kernel is the next step for speed.
/// </summary>
internal static class AttentionKernels
{
    /// <summary>Query rows per block.</summary>
    public const int RowsPerBlock = 16;

    /// <summary>Threads per block.</summary>
    public const int Threads = 128;

    /// <summary>The largest head dim served.</summary>
    public const int MaxHeadDim = 128;

    /// <summary>The instance for a head dim: the smallest multiple of 32 holding it.</summary>
    public static string KernelFor(string suffix, int headDim) => $"attention_{suffix}_d{(headDim + 31) / 32 * 32}";

    public static KernelFamily Family { get; } = new("attention", Code,
        [.. new[] { "f32", "bf16" }.SelectMany(s => new[] { 32, 64, 96, 128 }.Select(d => $"attention_{s}_d{d}"))]);

    private const string Code = """
        #define ATT_WARPS 4
        #define ATT_ROWS 4
        #define ATT_KEYS 32
        #define ATT_MAX_DIM 128

        // q, k, v and o point at the first column of head 0 of batch element 0; rows have strides ldq, ldk, ldv, ldo and a
        // batch element spans lq (q, o) or lk (k, v) rows. Query head h reads key/value head h / kvGroup. keyMask (null
        // for none) is [batch, lk], nonzero where a key may be seen; causal (lq = lk) hides keys after the query. A row
        // that may see no key gets zeros, or with uniformWhenMasked the mean of all lk values (equal weights).
        // Grid: (ceil(lq / 16), heads, batch), 128 threads.
        template <typename T, int CHUNKS>
        __device__ void attention(const T* q, int ldq, const T* k, int ldk, const T* v, int ldv, T* o, int ldo,
            int lq, int lk, int headDim, float scale, int kvGroup, const i64* keyMask, int causal, int uniformWhenMasked)
        {
            __shared__ float qs[ATT_WARPS * ATT_ROWS][ATT_MAX_DIM];
            __shared__ float ks[ATT_KEYS][ATT_MAX_DIM + 1];  // +1: lanes reading key `lane` at one dim hit distinct banks
            __shared__ float vs[ATT_KEYS][ATT_MAX_DIM];

            int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
            i64 b = blockIdx.z, head = (i64)blockIdx.y * headDim, kvHead = (i64)(blockIdx.y / kvGroup) * headDim;
            int firstRow = blockIdx.x * ATT_WARPS * ATT_ROWS;
            const T* qb = q + b * lq * ldq + head;
            const T* kb = k + b * lk * ldk + kvHead;
            const T* vb = v + b * lk * ldv + kvHead;
            const i64* mb = keyMask ? keyMask + b * lk : 0;
            T* ob = o + b * lq * ldo + head;
            // Causal: no query of this block sees a key after its last row.
            int keys = causal ? min(lk, firstRow + ATT_WARPS * ATT_ROWS) : lk;

            for (int i = threadIdx.x; i < ATT_WARPS * ATT_ROWS * headDim; i += blockDim.x)
            {
                int r = i / headDim, d = i % headDim, row = firstRow + r;
                qs[r][d] = row < lq ? to_float(qb[(i64)row * ldq + d]) : 0.f;
            }

            float m[ATT_ROWS], l[ATT_ROWS], acc[ATT_ROWS][CHUNKS];
            for (int r = 0; r < ATT_ROWS; r++)
            {
                m[r] = negative_infinity();
                l[r] = 0.f;
                for (int c = 0; c < CHUNKS; c++) acc[r][c] = 0.f;
            }

            for (int start = 0; start < keys; start += ATT_KEYS)
            {
                __syncthreads();  // the previous tile is consumed (and the queries are stored, the first time)
                for (int i = threadIdx.x; i < ATT_KEYS * headDim; i += blockDim.x)
                {
                    int j = i / headDim, d = i % headDim, key = start + j;
                    bool inside = key < keys;
                    ks[j][d] = inside ? to_float(kb[(i64)key * ldk + d]) : 0.f;
                    vs[j][d] = inside ? to_float(vb[(i64)key * ldv + d]) : 0.f;
                }
                __syncthreads();

                int key = start + lane;
                bool present = key < keys && (!mb || mb[key] != 0);
                for (int r = 0; r < ATT_ROWS; r++)
                {
                    bool valid = present && (!causal || key <= firstRow + warp * ATT_ROWS + r);
                    const float* qr = qs[warp * ATT_ROWS + r];
                    float s = 0.f;
                    for (int d = 0; d < headDim; d++) s += qr[d] * ks[lane][d];
                    s = valid ? s * scale : negative_infinity();
                    // A row may have seen no key yet (masked tiles): its maximum stays −∞ and nothing is rescaled.
                    float next = fmaxf(m[r], warp_max(s));
                    float p = valid ? expf(s - next) : 0.f;
                    float correction = m[r] == next ? 1.f : expf(m[r] - next);
                    l[r] = l[r] * correction + warp_sum(p);
                    for (int c = 0; c < CHUNKS; c++) acc[r][c] *= correction;
                    for (int j = 0; j < ATT_KEYS; j++)
                    {
                        float pj = __shfl_sync(0xffffffffu, p, j);
                        for (int c = 0; c < CHUNKS; c++)
                        {
                            int d = lane + 32 * c;
                            if (d < headDim) acc[r][c] += pj * vs[j][d];
                        }
                    }
                    m[r] = next;
                }
            }

            for (int r = 0; r < ATT_ROWS; r++)
            {
                int row = firstRow + warp * ATT_ROWS + r;
                if (row >= lq) continue;
                for (int c = 0; c < CHUNKS; c++)
                {
                    int d = lane + 32 * c;
                    if (d >= headDim) continue;
                    float value = 0.f;
                    if (l[r] > 0.f) value = acc[r][c] / l[r];
                    else if (uniformWhenMasked)
                    {
                        for (int j = 0; j < lk; j++) value += to_float(vb[(i64)j * ldv + d]);
                        value /= lk;
                    }
                    ob[(i64)row * ldo + d] = from_float<T>(value);
                }
            }
        }

        #define ATTENTION_KERNEL(S, T, D) \
            extern "C" __global__ void __launch_bounds__(128) attention_##S##_d##D(const T* q, int ldq, const T* k, int ldk, const T* v, int ldv, \
                T* o, int ldo, int lq, int lk, int headDim, float scale, int kvGroup, const i64* keyMask, int causal, int uniformWhenMasked) \
            { attention<T, D / 32>(q, ldq, k, ldk, v, ldv, o, ldo, lq, lk, headDim, scale, kvGroup, keyMask, causal, uniformWhenMasked); }
        #define ATTENTION_KERNELS(S, T) ATTENTION_KERNEL(S, T, 32) ATTENTION_KERNEL(S, T, 64) ATTENTION_KERNEL(S, T, 96) ATTENTION_KERNEL(S, T, 128)
        ATTENTION_KERNELS(f32, float)
        ATTENTION_KERNELS(bf16, bf16)
        """;
}
