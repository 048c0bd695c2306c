namespace Flux2.Cuda.Kernels;

/// <summary>Modulated LayerNorm (AdaLN) and RMSNorm, as IBackend.ModulatedLayerNorm and IBackend.RmsNorm define them and
/// the CPU kernels compute them: statistics and products in fp32, y may be x.</summary>
internal static class NormKernels
{
    public static KernelFamily Family { get; } = new("norms", Code, KernelFamily.ForActivations("modulated_layer_norm", "rms_norm"));

    private const string Code = """
        // y = LN(x)·(1 + scale) + shift over rows of width values; one block per row of x [batch·length, width]. shift and
        // scale point at the columns of batch element 0's modulation row; batch element b's lie modStride further per b.
        template <typename T>
        __device__ void modulated_layer_norm(const T* x, T* y, const T* shift, const T* scale, int length, int width, i64 modStride, float eps)
        {
            __shared__ float scratch[32];
            i64 row = blockIdx.x;
            const T* xr = x + row * width;
            T* yr = y + row * width;
            i64 mod = row / length * modStride;
            float sum = 0.f;
            for (int d = threadIdx.x; d < width; d += blockDim.x) sum += to_float(xr[d]);
            float mean = block_sum(sum, scratch) / width;
            float squares = 0.f;
            for (int d = threadIdx.x; d < width; d += blockDim.x)
            {
                float c = to_float(xr[d]) - mean;
                squares += c * c;
            }
            float rstd = 1.f / sqrtf(block_sum(squares, scratch) / width + eps);
            for (int d = threadIdx.x; d < width; d += blockDim.x)
                yr[d] = from_float<T>((to_float(xr[d]) - mean) * rstd * (1.f + to_float(scale[mod + d])) + to_float(shift[mod + d]));
        }

        // y = x·rsqrt(mean(x²) + eps)·w over each group of `group` values in `width` columns of every row (row stride ld;
        // x and y point at the first column); one warp per (row, group).
        template <typename T>
        __device__ void rms_norm(const T* x, T* y, const float* w, int rows, int ld, int width, int group, float eps)
        {
            i64 item = ((i64)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
            int lane = threadIdx.x & 31, groups = width / group;
            if (item >= (i64)rows * groups) return;
            i64 offset = item / groups * ld + item % groups * group;
            float squares = 0.f;
            for (int d = lane; d < group; d += 32)
            {
                float v = to_float(x[offset + d]);
                squares += v * v;
            }
            float r = 1.f / sqrtf(warp_sum(squares) / group + eps);
            for (int d = lane; d < group; d += 32) y[offset + d] = from_float<T>(to_float(x[offset + d]) * r * w[d]);
        }

        #define NORM_KERNELS(S, T) \
            extern "C" __global__ void modulated_layer_norm_##S(const T* x, T* y, const T* shift, const T* scale, int length, int width, i64 modStride, float eps) \
            { modulated_layer_norm<T>(x, y, shift, scale, length, width, modStride, eps); } \
            extern "C" __global__ void rms_norm_##S(const T* x, T* y, const float* w, int rows, int ld, int width, int group, float eps) \
            { rms_norm<T>(x, y, w, rows, ld, width, group, eps); }
        NORM_KERNELS(f32, float)
        NORM_KERNELS(bf16, bf16)
        """;
}
