using Flux2.Core;

namespace Flux2.Cuda.Kernels;

/// <summary>The block mix of IBackend.KroneckerLinear (a LoKr side path), the CPU kernel's formula and order of sums.</summary>
internal static class KroneckerKernels
{
    /// <summary>kronecker_mix_{t}_{y} for the scratch's and the output's activation types (a bf16 model's last Linear writes
    /// Float32).</summary>
    public static KernelFamily Family { get; } = new("kronecker", Code, KernelFamily.ForActivations(KernelFamily.ForActivations("kronecker_mix").ToArray()));

    public static string Kernel(DType scratch, DType y) => KernelFamily.ForActivation(KernelFamily.ForActivation("kronecker_mix", scratch), y);

    private const string Code = """
        // y[r, o] += Σ_j A[i, j]·t[r, j·c + k] with (i, k) = divmod(start + o, c), for o < count: t [rows, b·c] holds b
        // blocks of c products per row, A is [a, b] fp32, y points at its first column (row stride ldy). The terms are
        // added to y's value in j order, as the CPU does; with scales (null: none) each term is (A[i, j]·scales[start + o])·t.
        template <typename T, typename Y>
        __device__ void kronecker_mix(const T* t, const float* first, int b, int c, int start, int count, Y* y, i64 ldy, int rows, const float* scales)
        {
            FOR_EACH_INDEX(e, (i64)rows * count)
            {
                i64 r = e / count;
                int o = (int)(e % count), i = (start + o) / c, k = (start + o) % c;
                const T* blocks = t + r * b * c + k;
                const float* mix = first + (i64)i * b;
                float scale = scales ? scales[start + o] : 1.f;
                float sum = to_float(y[r * ldy + o]);
                for (int j = 0; j < b; j++) sum += mix[j] * scale * to_float(blocks[(i64)j * c]);
                y[r * ldy + o] = from_float<Y>(sum);
            }
        }

        #define KRONECKER_KERNEL(S, T, SY, Y) \
            extern "C" __global__ void kronecker_mix_##S##_##SY(const T* t, const float* first, int b, int c, int start, int count, Y* y, i64 ldy, int rows, \
                const float* scales) \
            { kronecker_mix<T, Y>(t, first, b, c, start, count, y, ldy, rows, scales); }
        KRONECKER_KERNEL(f32, float, f32, float)
        KRONECKER_KERNEL(f32, float, bf16, bf16)
        KRONECKER_KERNEL(bf16, bf16, f32, float)
        KRONECKER_KERNEL(bf16, bf16, bf16, bf16)
        """;
}
