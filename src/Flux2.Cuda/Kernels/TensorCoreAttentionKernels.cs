namespace Flux2.Cuda.Kernels;

/// <summary>
/// Flash attention on tensor cores for bf16 activations (IBackend.Attention, unmasked), FlashAttention-2's scheme with
/// PTX <c>mma.sync.m16n8k16</c> (bf16 operands, fp32 sums; sm_80 and later): a block of 8 warps takes 128 query rows of
/// one (batch, head), 16 per warp, and walks the keys in tiles of 64. K and V tiles are staged in shared memory as stored
/// (rows of keys) by 16-byte <c>cp.async</c> copies that overlap the products: V's tile loads while the warps compute the
/// scores on K's, and the next K tile while they multiply by V. <c>ldmatrix</c> reads the B fragments (transposed for V).
/// Each warp keeps its queries as A fragments in registers, computes its 16×64 scores S = Q·Kᵀ, runs the online softmax
/// on them in registers (row maxima shared by the 4 lanes of a row group, the GPU's approximate exp2 with the scale folded
/// into one fused multiply-add, keys past the end masked on the last tile only), reuses the
/// probabilities' accumulator layout as the A fragments of O += P·V (P rounded to bf16, as the CPU's bf16 products round
/// it), and divides by the row sums at the end. Scores never leave the chip. Head dims 64 and 128; rows and key counts of
/// any length (keys past the end are zero-filled and score −∞). K and V rows must start on 16 bytes (cp.async), Q and
/// output rows on 4 (bf16 pairs are read and written as 32-bit words), and the scale must be positive and finite, which
/// the dispatch checks.
/// </summary>
internal static class TensorCoreAttentionKernels
{
    /// <summary>Query rows per block.</summary>
    public const int RowsPerBlock = 128;

    /// <summary>Threads per block.</summary>
    public const int Threads = 256;

    /// <summary>Whether a head dim has an instance.</summary>
    public static bool Serves(int headDim) => headDim is 64 or 128;

    public static string KernelFor(int headDim) => $"attention_tc_bf16_d{headDim}";

    public static KernelFamily Family { get; } = new("attention_tc", Code, [KernelFor(64), KernelFor(128)]);

    private const string Code = """
        #define TC_WARPS 8
        #define TC_THREADS (32 * TC_WARPS)
        #define TC_KEYS 64
        // Shared-memory rows are 8 elements (16 bytes) longer than a head: the 8 rows an ldmatrix reads start 4 banks
        // apart and cover all 32 banks once.
        #define TC_PAD 8

        // Two floats rounded to bf16 (round to nearest even) in one word, the lower index in the lower half.
        __device__ __forceinline__ u32 pack_bf16x2(float lower, float upper)
        {
        #ifdef __CUDA_ARCH__
            u32 r;
            asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r) : "f"(upper), "f"(lower));
            return r;
        #else
            return emulated_cvt_rn_bf16x2_f32(upper, lower);
        #endif
        }

        // c += a·b for a 16×16 bf16 A (row-major fragment), a 16×8 bf16 B (column-major fragment), fp32 c.
        __device__ __forceinline__ void mma_bf16_16816(float* c, const u32* a, u32 b0, u32 b1)
        {
        #ifdef __CUDA_ARCH__
            asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
                : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
                : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
        #else
            emulated_mma_m16n8k16_row_col_f32_bf16_bf16_f32(c, a, b0, b1);
        #endif
        }

        // 2^x with the GPU's approximate instruction (relative error about 2⁻²², subnormal results flushed to zero): the
        // exact exp2f adds a range fix-up around it that costs more than the instruction itself. exp2(−∞) = 0.
        __device__ __forceinline__ float fast_exp2(float x)
        {
        #ifdef __CUDA_ARCH__
            float r;
            asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(x));
            return r;
        #else
            return emulated_ex2_approx_ftz_f32(x);
        #endif
        }

        #ifdef __CUDA_ARCH__
        // The shared-window address of a generic pointer into shared memory, as ldmatrix and cp.async take it. The
        // intrinsic rather than a cvta in inline asm: the compiler sees through it and folds each fragment's address
        // into the instruction's offset (NVRTC 12.4: 230 registers instead of 254, and no stack).
        __device__ __forceinline__ u32 shared_address(const void* p) { return (u32)__cvta_generic_to_shared(p); }
        #endif

        // Four 8×8 bf16 matrices from shared memory: lanes 8m to 8m + 7 give the rows of matrix m (16 bytes each); lane
        // 4g + t receives in r[m] row g's elements 2t and 2t + 1, or with Transposed column g's elements in rows 2t and 2t + 1.
        template <bool Transposed>
        __device__ __forceinline__ void load_matrices(u32* r, const bf16* row)
        {
        #ifdef __CUDA_ARCH__
            if (Transposed)
                asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];"
                    : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)));
            else
                asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];"
                    : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(shared_address(row)));
        #else
            emulated_ldmatrix_x4(r, row, Transposed);
        #endif
        }

        // Starts copying 16 bytes from global to shared memory, of which the first `bytes` (16 or 0) are read and the
        // rest zero-filled.
        __device__ __forceinline__ void copy_async_16(bf16* shared, const bf16* global, int bytes)
        {
        #ifdef __CUDA_ARCH__
            asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" :: "r"(shared_address(shared)), "l"(global), "r"(bytes) : "memory");
        #else
            emulated_cp_async_16(shared, global, bytes);
        #endif
        }

        __device__ __forceinline__ void commit_copies()
        {
        #ifdef __CUDA_ARCH__
            asm volatile("cp.async.commit_group;" ::: "memory");
        #else
            emulated_cp_async_commit_group();
        #endif
        }

        // Waits until this thread's copies have landed (other threads' copies need a __syncthreads after it).
        __device__ __forceinline__ void wait_copies()
        {
        #ifdef __CUDA_ARCH__
            asm volatile("cp.async.wait_group 0;" ::: "memory");
        #else
            emulated_cp_async_wait_group(0);
        #endif
        }

        // The two bf16 values at element `column` (even) of a row, as one word.
        __device__ __forceinline__ u32 load_pair(const bf16* row, int column) { return *(const u32*)(row + column); }

        // Starts staging rows [start, start + TC_KEYS) of one operand (K or V) in `tile`, 16 bytes per copy; rows past
        // lk are zeros (their copies read nothing, from row lk − 1's address).
        template <int D>
        __device__ __forceinline__ void stage_tile(bf16 (*tile)[D + TC_PAD], const bf16* base, int ld, int start, int lk)
        {
            constexpr int Chunks = D / 8;
            static_assert(TC_KEYS * Chunks % TC_THREADS == 0, "every thread copies the same number of chunks");
            #pragma unroll
            for (int r = 0; r < TC_KEYS * Chunks / TC_THREADS; r++)
            {
                int i = threadIdx.x + r * TC_THREADS, j = i / Chunks, c = i % Chunks, key = start + j;
                bool inside = key < lk;
                copy_async_16(&tile[j][8 * c], base + (i64)(inside ? key : lk - 1) * ld + 8 * c, inside ? 16 : 0);
            }
            commit_copies();
        }

        // Fragment layouts (PTX ISA, mma.m16n8k16 with .bf16): lane = 4·g + t. A word r of a 16×16 A tile holds row
        // g + 8·(r & 1), columns 2t + 8·(r >> 1) and the next; a word r of a 16×8 B tile holds rows (k) 2t + 8·r and the
        // next of column (n) g; accumulator c[e] is row g + 8·(e >> 1), column 2t + (e & 1). For S = Q·Kᵀ a B tile is
        // 8 key rows of K as stored (ldmatrix); for O = P·V it is 16 key rows of V read transposed (ldmatrix.trans).
        // Arguments as the SIMT kernel's: pointers at head 0's first column of batch element 0, row strides, lengths.
        // Grid: (ceil(lq / 128), heads, batch), 256 threads.
        template <int D>
        __device__ void attention_tc(const bf16* q, int ldq, const bf16* k, int ldk, const bf16* v, int ldv, bf16* o, int ldo,
            int lq, int lk, float scale)
        {
            alignas(16) __shared__ bf16 ks[TC_KEYS][D + TC_PAD];
            alignas(16) __shared__ bf16 vs[TC_KEYS][D + TC_PAD];

            int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
            i64 b = blockIdx.z, head = (i64)blockIdx.y * D;
            const bf16* qb = q + b * lq * ldq + head;
            const bf16* kb = k + b * lk * ldk + head;
            const bf16* vb = v + b * lk * ldv + head;
            bf16* ob = o + b * lq * ldo + head;
            int row0 = blockIdx.x * TC_WARPS * 16 + warp * 16 + g, row1 = row0 + 8;
            float log2Scale = scale * 1.4426950408889634f;

            stage_tile<D>(ks, kb, ldk, 0, lk);

            u32 qa[D / 16][4];
            #pragma unroll
            for (int kk = 0; kk < D / 16; kk++)
            {
                qa[kk][0] = row0 < lq ? load_pair(qb + (i64)row0 * ldq, 16 * kk + 2 * t) : 0u;
                qa[kk][1] = row1 < lq ? load_pair(qb + (i64)row1 * ldq, 16 * kk + 2 * t) : 0u;
                qa[kk][2] = row0 < lq ? load_pair(qb + (i64)row0 * ldq, 16 * kk + 2 * t + 8) : 0u;
                qa[kk][3] = row1 < lq ? load_pair(qb + (i64)row1 * ldq, 16 * kk + 2 * t + 8) : 0u;
            }

            float acc[D / 8][4];
            #pragma unroll
            for (int n = 0; n < D / 8; n++) acc[n][0] = acc[n][1] = acc[n][2] = acc[n][3] = 0.f;
            // Running maxima of the (unscaled) scores, the same times log2Scale, and this lane's part of the row sums, for
            // rows row0 and row1. The scale is positive, so the maxima of the scores are those of the scaled ones.
            float m0 = negative_infinity(), m1 = negative_infinity(), scaledMax0 = 0.f, scaledMax1 = 0.f, l0 = 0.f, l1 = 0.f;
            // The rows and column this lane gives ldmatrix: K's B tiles are keys 8n + (lane & 7) at dims 32kp + 8·(lane >> 3)
            // (the two halves of dim steps 2kp and 2kp + 1); V's are keys 16kk + (lane & 15) at dims 16np + 8·(lane >> 4)
            // (the two key halves of dim tiles 2np and 2np + 1).
            int kRow = lane & 7, kColumn = 8 * (lane >> 3), vRow = lane & 15, vColumn = 8 * (lane >> 4);

            for (int start = 0; start < lk; start += TC_KEYS)
            {
                wait_copies();
                __syncthreads();  // K's tile has landed, and every warp is done with V's previous tile
                stage_tile<D>(vs, vb, ldv, start, lk);

                float s[TC_KEYS / 8][4];
                #pragma unroll
                for (int n = 0; n < TC_KEYS / 8; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
                #pragma unroll
                for (int kp = 0; kp < D / 32; kp++)
                {
                    #pragma unroll
                    for (int n = 0; n < TC_KEYS / 8; n++)
                    {
                        u32 kf[4];
                        load_matrices<false>(kf, &ks[8 * n + kRow][32 * kp + kColumn]);
                        mma_bf16_16816(s[n], qa[2 * kp], kf[0], kf[1]);
                        mma_bf16_16816(s[n], qa[2 * kp + 1], kf[2], kf[3]);
                    }
                }

                // Only the last tile can reach past the keys.
                if (start + TC_KEYS > lk)
                {
                    #pragma unroll
                    for (int n = 0; n < TC_KEYS / 8; n++)
                        #pragma unroll
                        for (int e = 0; e < 4; e++)
                            if (start + 8 * n + 2 * t + (e & 1) >= lk) s[n][e] = negative_infinity();
                }
                float tileMax0 = negative_infinity(), tileMax1 = negative_infinity();
                #pragma unroll
                for (int n = 0; n < TC_KEYS / 8; n++)
                {
                    tileMax0 = fmaxf(tileMax0, fmaxf(s[n][0], s[n][1]));
                    tileMax1 = fmaxf(tileMax1, fmaxf(s[n][2], s[n][3]));
                }
                // The 4 lanes of a row group hold the row's 64 scores between them.
                tileMax0 = fmaxf(tileMax0, __shfl_xor_sync(0xffffffffu, tileMax0, 1));
                tileMax0 = fmaxf(tileMax0, __shfl_xor_sync(0xffffffffu, tileMax0, 2));
                tileMax1 = fmaxf(tileMax1, __shfl_xor_sync(0xffffffffu, tileMax1, 1));
                tileMax1 = fmaxf(tileMax1, __shfl_xor_sync(0xffffffffu, tileMax1, 2));
                // Key `start` exists, so the new maxima are finite; exp2(−∞) = 0 on the first tile.
                float next0 = fmaxf(m0, tileMax0), next1 = fmaxf(m1, tileMax1);
                // Past the first tiles a row's maximum seldom changes: the warp skips the rescaling when none of its
                // rows' did.
                if (next0 != m0 || next1 != m1)
                {
                    float correction0 = fast_exp2((m0 - next0) * log2Scale), correction1 = fast_exp2((m1 - next1) * log2Scale);
                    m0 = next0;
                    m1 = next1;
                    scaledMax0 = next0 * log2Scale;
                    scaledMax1 = next1 * log2Scale;
                    l0 *= correction0;
                    l1 *= correction1;
                    #pragma unroll
                    for (int n = 0; n < D / 8; n++)
                    {
                        acc[n][0] *= correction0;
                        acc[n][1] *= correction0;
                        acc[n][2] *= correction1;
                        acc[n][3] *= correction1;
                    }
                }

                wait_copies();
                __syncthreads();  // V's tile has landed, and every warp is done with K's
                if (start + TC_KEYS < lk) stage_tile<D>(ks, kb, ldk, start + TC_KEYS, lk);

                #pragma unroll
                for (int kk = 0; kk < TC_KEYS / 16; kk++)
                {
                    // The probabilities of keys 16kk .. 16kk + 15: accumulator tiles 2kk and 2kk + 1 are the A fragment.
                    float p[8];
                    #pragma unroll
                    for (int e = 0; e < 4; e++)
                    {
                        p[e] = fast_exp2(fmaf(s[2 * kk][e], log2Scale, -(e < 2 ? scaledMax0 : scaledMax1)));
                        p[4 + e] = fast_exp2(fmaf(s[2 * kk + 1][e], log2Scale, -(e < 2 ? scaledMax0 : scaledMax1)));
                    }
                    l0 += p[0] + p[1] + p[4] + p[5];
                    l1 += p[2] + p[3] + p[6] + p[7];
                    u32 pa[4] = { pack_bf16x2(p[0], p[1]), pack_bf16x2(p[2], p[3]), pack_bf16x2(p[4], p[5]), pack_bf16x2(p[6], p[7]) };
                    #pragma unroll
                    for (int np = 0; np < D / 16; np++)
                    {
                        u32 vf[4];
                        load_matrices<true>(vf, &vs[16 * kk + vRow][16 * np + vColumn]);
                        mma_bf16_16816(acc[2 * np], pa, vf[0], vf[1]);
                        mma_bf16_16816(acc[2 * np + 1], pa, vf[2], vf[3]);
                    }
                }
            }

            l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
            l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
            l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
            l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
            float inverse0 = 1.f / l0, inverse1 = 1.f / l1;
            #pragma unroll
            for (int n = 0; n < D / 8; n++)
            {
                int column = 8 * n + 2 * t;
                if (row0 < lq) *(u32*)(ob + (i64)row0 * ldo + column) = pack_bf16x2(acc[n][0] * inverse0, acc[n][1] * inverse0);
                if (row1 < lq) *(u32*)(ob + (i64)row1 * ldo + column) = pack_bf16x2(acc[n][2] * inverse1, acc[n][3] * inverse1);
            }
        }

        #define ATTENTION_TC_KERNEL(D) \
            extern "C" __global__ void __launch_bounds__(TC_THREADS) attention_tc_bf16_d##D(const bf16* q, int ldq, const bf16* k, int ldk, \
                const bf16* v, int ldv, bf16* o, int ldo, int lq, int lk, float scale) \
            { attention_tc<D>(q, ldq, k, ldk, v, ldv, o, ldo, lq, lk, scale); }
        ATTENTION_TC_KERNEL(64)
        ATTENTION_TC_KERNEL(128)
        """;
}
