namespace Flux2.Cuda.Kernels;

/// <summary>The sampler's fp32 arithmetic (IBackend.EulerStep, GuidanceCombine, TaylorUpdate, TaylorExtrapolate,
/// ResidualChange) rounding like the CPU: every product that the host rounds before an addition is __fmul_rn, which the
/// compiler never fuses into an FMA. ResidualChange's tensors are the image stream's, so it comes in both activation types.</summary>
internal static class SamplerKernels
{
    public static KernelFamily Family { get; } = new("sampler", Code,
        ["euler_step", "guidance_combine", "taylor_update", "taylor_extrapolate", .. KernelFamily.ForActivations("residual_change")]);

    private const string Code = """
        extern "C" __global__ void euler_step(float* x, const float* v, i64 n, float dt)
        {
            FOR_EACH_INDEX(i, n) x[i] = x[i] + __fmul_rn(dt, v[i]);
        }

        extern "C" __global__ void guidance_combine(float* velocity, const float* negative, i64 n, float scale)
        {
            FOR_EACH_INDEX(i, n) velocity[i] = negative[i] + __fmul_rn(scale, velocity[i] - negative[i]);
        }

        extern "C" __global__ void taylor_update(float* f0, float* f1, float* f2, const float* v, i64 n, float divisor, int secondOrder)
        {
            FOR_EACH_INDEX(i, n)
            {
                float next = (v[i] - f0[i]) / divisor;
                if (secondOrder) f2[i] = (next - f1[i]) / divisor;
                f1[i] = next;
                f0[i] = v[i];
            }
        }

        extern "C" __global__ void taylor_extrapolate(const float* f0, const float* f1, const float* f2, i64 n, float delta, int secondOrder, float* v)
        {
            float half = __fmul_rn(__fmul_rn(0.5f, delta), delta);
            FOR_EACH_INDEX(i, n)
            {
                float first = f0[i] + __fmul_rn(f1[i], delta);
                v[i] = secondOrder ? first + __fmul_rn(f2[i], half) : first;
            }
        }

        // residual ← after − residual, rounded to T as stored; sums[0] += Σ|residual − previous|, sums[1] += Σ|previous| in
        // float64 (the caller zeroes sums first). Blocks of 256 threads.
        template <typename T>
        __device__ void residual_change(const T* after, T* residual, const T* previous, i64 n, double* sums)
        {
            double change = 0, previousSum = 0;
            FOR_EACH_INDEX(i, n)
            {
                T stored = from_float<T>(to_float(after[i]) - to_float(residual[i]));
                residual[i] = stored;
                float r = to_float(stored), p = to_float(previous[i]);
                change += fabsf(r - p);
                previousSum += fabsf(p);
            }
            block_add_pair(change, previousSum, sums);
        }

        #define RESIDUAL_CHANGE(S, T) extern "C" __global__ void residual_change_##S(const T* after, T* residual, const T* previous, i64 n, double* sums) \
            { residual_change<T>(after, residual, previous, n, sums); }
        RESIDUAL_CHANGE(f32, float)
        RESIDUAL_CHANGE(bf16, bf16)
        """;
}
