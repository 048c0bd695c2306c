namespace Flux2.Cuda.Kernels;

/// <summary>
/// The activation side of an FP8 Linear (cuBLASLt's E4M3 GEMM, sm_89+): the absolute maximum of x, then x quantized to
/// E4M3 with one scale per tensor, s = amax / 448 (E4M3's largest finite value), q = e4m3(x / s) rounded to nearest even
/// and saturated; the GEMM multiplies by s and by the weight's own scale. The conversion is written out in fp32 arithmetic
/// (no cuda_fp8.h in NVRTC 12.4) and matches the host's <c>E4M3</c> encoder bit for bit.
/// </summary>
internal static class Fp8Kernels
{
    /// <summary>E4M3's largest finite value.</summary>
    public const float MaxFinite = 448f;

    public static KernelFamily Family { get; } = new("fp8", Code, KernelFamily.ForActivations("fp8_amax", "fp8_quantize"));

    private const string Code = """
        // E4M3 (bias 7, no infinities): a normal byte is (8 + m)·2^(e − 10), a subnormal one m·2^−9. |v| ≤ 448 is rounded to
        // the nearest multiple of its binade's quantum (2^(exponent − 3), at least 2^−9), ties to even: dividing by a power
        // of two is exact, so rintf sees the exact quotient.
        __device__ u8 e4m3_from_float(float v)
        {
            u8 sign = signbit(v) ? 0x80 : 0;
            if (isnan(v)) return sign | 0x7f;
            float a = fminf(fabsf(v), 448.f);
            int exponent;
            frexpf(a, &exponent);
            exponent = max(exponent - 1, -6);
            float q = ldexpf(rintf(ldexpf(a, 3 - exponent)), exponent - 3);
            if (q == 0.f) return sign;
            frexpf(q, &exponent);
            exponent -= 1; // the rounding may have carried into the next binade
            if (exponent < -6) return sign | (u8)ldexpf(q, 9);
            return sign | (u8)((exponent + 7) << 3) | ((u8)ldexpf(q, 3 - exponent) - 8);
        }

        // amax[0] = max |x| over rows × width of x (row stride ldx), as float bits: for non-negative floats the integer
        // order is the value order, so atomicMax on the bits is a float maximum. The caller zeroes amax first.
        template <typename T>
        __device__ void fp8_amax(const T* x, int ldx, int rows, int width, u32* amax)
        {
            __shared__ float scratch[32];
            float m = 0.f;
            FOR_EACH_INDEX(i, (i64)rows * width) m = fmaxf(m, fabsf(to_float(x[(i / width) * ldx + i % width])));
            m = block_max(m, scratch);
            if (threadIdx.x == 0) atomicMax(amax, __float_as_uint(m));
        }

        // q[rows, width] (contiguous) = e4m3(x / s), s = amax / 448 (1 for an all-zero x), written to scale for the GEMM.
        template <typename T>
        __device__ void fp8_quantize(const T* x, int ldx, int rows, int width, const u32* amax, u8* q, float* scale)
        {
            float m = __uint_as_float(*amax);
            float s = m > 0.f ? m / 448.f : 1.f;
            if (blockIdx.x == 0 && threadIdx.x == 0) *scale = s;
            FOR_EACH_INDEX(i, (i64)rows * width) q[i] = e4m3_from_float(to_float(x[(i / width) * ldx + i % width]) / s);
        }

        #define FP8_KERNELS(S, T) \
            extern "C" __global__ void fp8_amax_##S(const T* x, int ldx, int rows, int width, u32* amax) \
            { fp8_amax<T>(x, ldx, rows, width, amax); } \
            extern "C" __global__ void fp8_quantize_##S(const T* x, int ldx, int rows, int width, const u32* amax, u8* q, float* scale) \
            { fp8_quantize<T>(x, ldx, rows, width, amax, q, scale); }
        FP8_KERNELS(f32, float)
        FP8_KERNELS(bf16, bf16)
        """;
}
