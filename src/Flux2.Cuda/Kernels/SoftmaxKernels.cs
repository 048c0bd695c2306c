namespace Flux2.Cuda.Kernels;

/// <summary>The row softmax of attention through cuBLASLt (IBackend.Attention for head dims beyond the flash kernel's):
/// fp32 scores in, probabilities out in the type of the product that follows.</summary>
internal static class SoftmaxKernels
{
    public static KernelFamily Family { get; } = new("softmax", Code, KernelFamily.ForActivations("softmax_rows"));

    private const string Code = """
        // p[r, c] = exp(scale·s[r, c] − m)/Σ_c exp(scale·s[r, c] − m), m the row's largest scaled score, for rows of width
        // values (both dense); one block per row.
        template <typename T>
        __device__ void softmax_rows(const float* s, T* p, int width, float scale)
        {
            __shared__ float scratch[32];
            const float* sr = s + (i64)blockIdx.x * width;
            T* pr = p + (i64)blockIdx.x * width;
            float m = negative_infinity();
            for (int c = threadIdx.x; c < width; c += blockDim.x) m = fmaxf(m, sr[c] * scale);
            m = block_max(m, scratch);
            float sum = 0.f;
            for (int c = threadIdx.x; c < width; c += blockDim.x) sum += expf(sr[c] * scale - m);
            float inverse = 1.f / block_sum(sum, scratch);
            for (int c = threadIdx.x; c < width; c += blockDim.x) pr[c] = from_float<T>(expf(sr[c] * scale - m) * inverse);
        }

        #define SOFTMAX_KERNEL(S, T) \
            extern "C" __global__ void softmax_rows_##S(const float* s, T* p, int width, float scale) { softmax_rows<T>(s, p, width, scale); }
        SOFTMAX_KERNEL(f32, float)
        SOFTMAX_KERNEL(bf16, bf16)
        """;
}
