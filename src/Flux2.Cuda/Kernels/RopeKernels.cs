namespace Flux2.Cuda.Kernels;

/// <summary>The DiT's RoPE: the cos/sin tables from int64 positions (IBackend.RopeTable, angles in float64 as the CPU builds
/// them) and the interleaved-pair rotation in place (IBackend.InterleavedRope).</summary>
internal static class RopeKernels
{
    /// <summary>The most axes <c>rope_table</c> takes (FLUX.2 has 4).</summary>
    public const int MaxAxes = 8;

    public static KernelFamily Family { get; } = new("rope", Code, ["rope_table", .. KernelFamily.ForActivations("interleaved_rope")]);

    private const string Code = """
        // The head dims of each RoPE axis, passed by value.
        struct RopeAxes { int count; int dims[8]; };

        // Pair p of row r: axis a owns dims[a]/2 consecutive pairs; pair j of axis a has ω = θ^(−2j/dims[a]) and angle
        // ids[r, a]·ω, all in float64, stored fp32.
        extern "C" __global__ void rope_table(const i64* ids, int rows, int pairs, RopeAxes axes, double theta, float* cosines, float* sines)
        {
            FOR_EACH_INDEX(i, (i64)rows * pairs)
            {
                i64 r = i / pairs;
                int j = (int)(i % pairs), a = 0;
                while (j >= axes.dims[a] / 2) j -= axes.dims[a++] / 2;
                double omega = 1.0 / pow(theta, 2.0 * j / axes.dims[a]);
                double angle = (double)ids[r * axes.count + a] * omega;
                cosines[i] = (float)cos(angle);
                sines[i] = (float)sin(angle);
            }
        }

        // (x[2p], x[2p+1]) ← (x[2p]·cos − x[2p+1]·sin, x[2p]·sin + x[2p+1]·cos) for `heads` heads of 2·pairs values per
        // row (x points at the first head, row stride ld); row r uses table row r mod tableRows.
        template <typename T>
        __device__ void interleaved_rope(T* x, int ld, int rows, int heads, int pairs, const float* cosines, const float* sines, int tableRows)
        {
            FOR_EACH_INDEX(i, (i64)rows * heads * pairs)
            {
                int p = (int)(i % pairs);
                i64 rh = i / pairs;
                i64 r = rh / heads;
                int h = (int)(rh % heads);
                T* e = x + r * ld + (i64)h * 2 * pairs + 2 * p;
                i64 t = (r % tableRows) * pairs + p;
                float a = to_float(e[0]), b = to_float(e[1]), c = cosines[t], s = sines[t];
                e[0] = from_float<T>(a * c - b * s);
                e[1] = from_float<T>(a * s + b * c);
            }
        }

        #define ROPE_KERNELS(S, T) \
            extern "C" __global__ void interleaved_rope_##S(T* x, int ld, int rows, int heads, int pairs, const float* cosines, const float* sines, int tableRows) \
            { interleaved_rope<T>(x, ld, rows, heads, pairs, cosines, sines, tableRows); }
        ROPE_KERNELS(f32, float)
        ROPE_KERNELS(bf16, bf16)
        """;
}
