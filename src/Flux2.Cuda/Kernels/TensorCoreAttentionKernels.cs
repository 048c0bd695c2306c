namespace Flux2.Cuda.Kernels;

/// <summary>
/// Flash attention on tensor cores for bf16 activations (IBackend.Attention, unmasked), FlashAttention-2's scheme with
/// PTX <c>mma.sync.m16n8k16</c> (bf16 operands, fp32 sums; sm_80 and later): a block of 4 warps takes 64 query rows of one
/// (batch, head), 16 per warp, and walks the keys in tiles of 64 staged in shared memory (K as rows, V transposed). Each
/// warp keeps its queries as A fragments in registers, computes its 16×64 scores S = Q·Kᵀ, runs the online softmax on
/// them in registers (row maxima shared by the 4 lanes of a row group, exp2 with the scale folded in), reuses the
/// probabilities' accumulator layout as the A fragments of O += P·V (P rounded to bf16, as the CPU's bf16 products
/// round it), and divides by the row sums at the end. Scores never leave the chip. Head dims 64 and 128; rows and key
/// counts of any length (keys past the end score −∞). Operand rows and head offsets must be even (bf16 pairs are read as
/// 32-bit words), which the dispatch checks.
/// </summary>
internal static class TensorCoreAttentionKernels
{
    /// <summary>Query rows per block.</summary>
    public const int RowsPerBlock = 64;

    /// <summary>Threads per block.</summary>
    public const int Threads = 128;

    /// <summary>Whether a head dim has an instance.</summary>
    public static bool Serves(int headDim) => headDim is 64 or 128;

    public static string KernelFor(int headDim) => $"attention_tc_bf16_d{headDim}";

    public static KernelFamily Family { get; } = new("attention_tc", Code, [KernelFor(64), KernelFor(128)]);

    private const string Code = """
        #define TC_WARPS 4
        #define TC_KEYS 64

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

        // The two bf16 values at element `column` (even) of a row, as one word.
        __device__ __forceinline__ u32 load_pair(const bf16* row, int column) { return *(const u32*)(row + column); }

        // Fragment layouts (PTX ISA, mma.m16n8k16 with .bf16): lane = 4·g + t. A word r of a 16×16 A tile holds row
        // g + 8·(r & 1), columns 2t + 8·(r >> 1) and the next; a word r of a 16×8 B tile holds rows (k) 2t + 8·r and the
        // next of column (n) g; accumulator c[e] is row g + 8·(e >> 1), column 2t + (e & 1).
        // Arguments as the SIMT kernel's: pointers at head 0's first column of batch element 0, row strides, lengths.
        // Grid: (ceil(lq / 64), heads, batch), 128 threads.
        template <int D>
        __device__ void attention_tc(const bf16* q, int ldq, const bf16* k, int ldk, const bf16* v, int ldv, bf16* o, int ldo,
            int lq, int lk, float scale)
        {
            // +4 words per row: the 8 row groups of a warp's fragment reads land on distinct banks.
            __shared__ u32 ks[TC_KEYS][D / 2 + 4];       // key j, dims 2w and 2w + 1
            __shared__ u32 vts[D][TC_KEYS / 2 + 4];      // dim d, keys 2w and 2w + 1 of the tile

            int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
            i64 b = blockIdx.z, head = (i64)blockIdx.y * D;
            const bf16* qb = q + b * lq * ldq + head;
            const bf16* kb = k + b * lk * ldk + head;
            const bf16* vb = v + b * lk * ldv + head;
            bf16* ob = o + b * lq * ldo + head;
            int row0 = blockIdx.x * TC_WARPS * 16 + warp * 16 + g, row1 = row0 + 8;
            float log2Scale = scale * 1.4426950408889634f;

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
            // Running maxima (of scaled log2 scores) and this lane's part of the row sums, for rows row0 and row1.
            float m0 = negative_infinity(), m1 = negative_infinity(), l0 = 0.f, l1 = 0.f;

            for (int start = 0; start < lk; start += TC_KEYS)
            {
                __syncthreads();  // the previous tile is consumed
                for (int i = threadIdx.x; i < TC_KEYS * (D / 2); i += blockDim.x)
                {
                    int j = i / (D / 2), w = i % (D / 2), key = start + j;
                    ks[j][w] = key < lk ? load_pair(kb + (i64)key * ldk, 2 * w) : 0u;
                }
                for (int i = threadIdx.x; i < (TC_KEYS / 2) * D; i += blockDim.x)
                {
                    int d = i % D, w = i / D, key = start + 2 * w;
                    u32 lower = key < lk ? vb[(i64)key * ldv + d].bits : 0u;
                    u32 upper = key + 1 < lk ? vb[(i64)(key + 1) * ldv + d].bits : 0u;
                    vts[d][w] = lower | upper << 16;
                }
                __syncthreads();

                float s[TC_KEYS / 8][4];
                #pragma unroll
                for (int n = 0; n < TC_KEYS / 8; n++)
                {
                    s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.f;
                    #pragma unroll
                    for (int kk = 0; kk < D / 16; kk++) mma_bf16_16816(s[n], qa[kk], ks[8 * n + g][8 * kk + t], ks[8 * n + g][8 * kk + 4 + t]);
                }

                float tileMax0 = negative_infinity(), tileMax1 = negative_infinity();
                #pragma unroll
                for (int n = 0; n < TC_KEYS / 8; n++)
                {
                    #pragma unroll
                    for (int e = 0; e < 4; e++)
                    {
                        int key = start + 8 * n + 2 * t + (e & 1);
                        s[n][e] = key < lk ? s[n][e] * log2Scale : negative_infinity();
                    }
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
                float correction0 = exp2f(m0 - next0), correction1 = exp2f(m1 - next1);
                m0 = next0;
                m1 = next1;
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

                #pragma unroll
                for (int kk = 0; kk < TC_KEYS / 16; kk++)
                {
                    // The probabilities of keys 16kk .. 16kk + 15: accumulator tiles 2kk and 2kk + 1 are the A fragment.
                    float p[8];
                    #pragma unroll
                    for (int e = 0; e < 4; e++)
                    {
                        p[e] = exp2f(s[2 * kk][e] - (e < 2 ? m0 : m1));
                        p[4 + e] = exp2f(s[2 * kk + 1][e] - (e < 2 ? m0 : m1));
                    }
                    l0 += p[0] + p[1] + p[4] + p[5];
                    l1 += p[2] + p[3] + p[6] + p[7];
                    u32 pa[4] = { pack_bf16x2(p[0], p[1]), pack_bf16x2(p[2], p[3]), pack_bf16x2(p[4], p[5]), pack_bf16x2(p[6], p[7]) };
                    #pragma unroll
                    for (int n = 0; n < D / 8; n++) mma_bf16_16816(acc[n], pa, vts[8 * n + g][8 * kk + t], vts[8 * n + g][8 * kk + 4 + t]);
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
            extern "C" __global__ void __launch_bounds__(128) attention_tc_bf16_d##D(const bf16* q, int ldq, const bf16* k, int ldk, \
                const bf16* v, int ldv, bf16* o, int ldo, int lq, int lk, float scale) \
            { attention_tc<D>(q, ldq, k, ldk, v, ldv, o, ldo, lq, lk, scale); }
        ATTENTION_TC_KERNEL(64)
        ATTENTION_TC_KERNEL(128)
        """;
}
