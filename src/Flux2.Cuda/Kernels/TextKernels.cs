namespace Flux2.Cuda.Kernels;

/// <summary>The text encoders' element-wise ops: the embedding gather (IBackend.EmbeddingLookup) from a resident table in
/// any format the backend keeps weights in, and rotate-half RoPE in place (IBackend.RotaryHalf). Their attention is the
/// flash kernel's masked form (<see cref="AttentionKernels"/>).</summary>
internal static class TextKernels
{
    /// <summary>The gather's instance for a table element type ("f32", "bf16", "f16", "fp8") and an output type ("f32", "bf16").</summary>
    public static string EmbeddingKernel(string table, string output) => $"embedding_lookup_{table}_{output}";

    public static KernelFamily Family { get; } = new("text", Code,
    [
        .. new[] { "f32", "bf16", "f16", "fp8" }.SelectMany(t => new[] { EmbeddingKernel(t, "f32"), EmbeddingKernel(t, "bf16") }),
        .. KernelFamily.ForActivations("rotary_half"),
    ]);

    private const string Code = """
        // output[t, d] = table[ids[t], d]. The encoder checks the ids against the vocabulary on the host before uploading
        // them; an id outside [0, vocab) reads as zeros here rather than outside the table.
        template <typename W, typename T>
        __device__ void embedding_lookup(const W* table, i64 vocab, int hidden, const i64* ids, i64 count, T* output)
        {
            FOR_EACH_INDEX(i, count * hidden)
            {
                i64 id = ids[i / hidden];
                int d = (int)(i % hidden);
                output[i] = from_float<T>(id >= 0 && id < vocab ? to_float(table[id * hidden + d]) : 0.f);
            }
        }

        // Rotate-half RoPE of x [rows = B·L, heads, 2·half] in place; row r is sequence position r mod length of the
        // [length, half] tables: (x[d], x[d + half]) ← (x[d]·cos − x[d + half]·sin, x[d + half]·cos + x[d]·sin).
        template <typename T>
        __device__ void rotary_half(T* x, i64 rows, int length, int heads, int half, const float* cosines, const float* sines)
        {
            FOR_EACH_INDEX(i, rows * heads * half)
            {
                int d = (int)(i % half);
                i64 rowHead = i / half;
                i64 row = rowHead / heads;
                T* e = x + rowHead * 2 * half + d;
                i64 t = (row % length) * half + d;
                float a = to_float(e[0]), b = to_float(e[half]), c = cosines[t], s = sines[t];
                e[0] = from_float<T>(a * c - b * s);
                e[half] = from_float<T>(b * c + a * s);
            }
        }

        // An FP8 table kept as stored (E4M3 bytes and the weight's scale, on a GPU that runs FP8 GEMMs).
        __device__ __forceinline__ float e4m3_to_float(u8 b)
        {
            int e = (b >> 3) & 15, m = b & 7;
            float magnitude = e == 15 && m == 7 ? __int_as_float(0x7fc00000) : e == 0 ? ldexpf((float)m, -9) : ldexpf((float)(8 + m), e - 10);
            return b & 0x80 ? -magnitude : magnitude;
        }

        template <typename T>
        __device__ void embedding_lookup_fp8(const u8* table, const float* scale, i64 vocab, int hidden, const i64* ids, i64 count, T* output)
        {
            float s = *scale;
            FOR_EACH_INDEX(i, count * hidden)
            {
                i64 id = ids[i / hidden];
                int d = (int)(i % hidden);
                output[i] = from_float<T>(id >= 0 && id < vocab ? e4m3_to_float(table[id * hidden + d]) * s : 0.f);
            }
        }

        #define EMBEDDING_KERNEL(SW, W, ST, T) \
            extern "C" __global__ void embedding_lookup_##SW##_##ST(const W* table, i64 vocab, int hidden, const i64* ids, i64 count, T* output) \
            { embedding_lookup<W, T>(table, vocab, hidden, ids, count, output); }
        #define EMBEDDING_KERNELS(SW, W) EMBEDDING_KERNEL(SW, W, f32, float) EMBEDDING_KERNEL(SW, W, bf16, bf16)
        EMBEDDING_KERNELS(f32, float)
        EMBEDDING_KERNELS(bf16, bf16)
        EMBEDDING_KERNELS(f16, f16)
        extern "C" __global__ void embedding_lookup_fp8_f32(const u8* table, const float* scale, i64 vocab, int hidden, const i64* ids, i64 count, float* output)
        { embedding_lookup_fp8<float>(table, scale, vocab, hidden, ids, count, output); }
        extern "C" __global__ void embedding_lookup_fp8_bf16(const u8* table, const float* scale, i64 vocab, int hidden, const i64* ids, i64 count, bf16* output)
        { embedding_lookup_fp8<bf16>(table, scale, vocab, hidden, ids, count, output); }

        #define ROTARY_KERNELS(S, T) \
            extern "C" __global__ void rotary_half_##S(T* x, i64 rows, int length, int heads, int half, const float* cosines, const float* sines) \
            { rotary_half<T>(x, rows, length, heads, half, cosines, sines); }
        ROTARY_KERNELS(f32, float)
        ROTARY_KERNELS(bf16, bf16)
        """;
}
