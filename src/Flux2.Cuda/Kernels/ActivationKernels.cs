namespace Flux2.Cuda.Kernels;

/// <summary>SiLU, SwiGLU, the gated residual and column gains (IBackend.Silu, SwiGlu, AddGated, ScaleColumns), with the CPU
/// kernels' formulas in fp32.</summary>
internal static class ActivationKernels
{
    public static KernelFamily Family { get; } = new("activations", Code, KernelFamily.ForActivations("silu", "swiglu", "add_gated", "scale_columns"));

    private const string Code = """
        __device__ __forceinline__ float silu_of(float v) { return v / (1.f + expf(-v)); }

        // y = x·sigmoid(x) over n elements; y may be x.
        template <typename T>
        __device__ void silu(const T* x, T* y, i64 n)
        {
            FOR_EACH_INDEX(i, n) y[i] = from_float<T>(silu_of(to_float(x[i])));
        }

        // y[r, i] = SiLU(z[r, i])·z[r, width + i] for i < width; z and y point at their first column (row strides ldz, ldy).
        template <typename T>
        __device__ void swiglu(const T* z, int ldz, T* y, int ldy, int rows, int width)
        {
            FOR_EACH_INDEX(i, (i64)rows * width)
            {
                i64 r = i / width, c = i % width;
                const T* gate = z + r * ldz + c;
                y[r * ldy + c] = from_float<T>(silu_of(to_float(gate[0])) * to_float(gate[width]));
            }
        }

        // x += gate ⊙ y over n = batch·length·width elements; gate points at the gate column of batch element 0's
        // modulation row, batch element b's lies b·modStride further.
        template <typename T>
        __device__ void add_gated(T* x, const T* y, const T* gate, i64 n, int length, int width, i64 modStride)
        {
            FOR_EACH_INDEX(i, n)
            {
                i64 row = i / width;
                float g = to_float(gate[row / length * modStride + i % width]);
                x[i] = from_float<T>(to_float(x[i]) + g * to_float(y[i]));
            }
        }

        // y[r, c] = scales[c]·x[r, c] (or += with accumulate) for c < width; x and y point at their first column (row
        // strides ldx, ldy); x may be y.
        template <typename T>
        __device__ void scale_columns(const T* x, int ldx, const float* scales, T* y, int ldy, int rows, int width, int accumulate)
        {
            FOR_EACH_INDEX(i, (i64)rows * width)
            {
                i64 r = i / width, c = i % width;
                float v = scales[c] * to_float(x[r * ldx + c]);
                T* out = y + r * ldy + c;
                *out = from_float<T>(accumulate ? to_float(*out) + v : v);
            }
        }

        #define ACTIVATION_KERNELS(S, T) \
            extern "C" __global__ void silu_##S(const T* x, T* y, i64 n) { silu<T>(x, y, n); } \
            extern "C" __global__ void swiglu_##S(const T* z, int ldz, T* y, int ldy, int rows, int width) { swiglu<T>(z, ldz, y, ldy, rows, width); } \
            extern "C" __global__ void add_gated_##S(T* x, const T* y, const T* gate, i64 n, int length, int width, i64 modStride) \
            { add_gated<T>(x, y, gate, n, length, width, modStride); } \
            extern "C" __global__ void scale_columns_##S(const T* x, int ldx, const float* scales, T* y, int ldy, int rows, int width, int accumulate) \
            { scale_columns<T>(x, ldx, scales, y, ldy, rows, width, accumulate); }
        ACTIVATION_KERNELS(f32, float)
        ACTIVATION_KERNELS(bf16, bf16)
        """;
}
