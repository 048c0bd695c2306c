namespace Flux2.Cuda.Kernels;

/// <summary>The CUDA C every kernel family starts with: element types, conversions and reductions. NVRTC 12.4 has no
/// cuda_bf16.h (nor any header), so bf16 and f16 are their 16 raw bits and convert through PTX cvt (sm_80 and later).
/// Kernels read activations through <c>to_float</c> and write through <c>from_float</c>, computing in fp32.</summary>
internal static class KernelPrelude
{
    public const string Code = """
        typedef unsigned char u8;
        typedef unsigned short u16;
        typedef unsigned int u32;
        typedef unsigned long long u64;
        typedef long long i64;

        struct bf16 { u16 bits; };
        struct f16 { u16 bits; };

        __device__ __forceinline__ float to_float(float v) { return v; }
        __device__ __forceinline__ float to_float(bf16 v) { return __uint_as_float((u32)v.bits << 16); }
        // PTX where NVRTC compiles for the GPU; the host emulation of the tests (tests/CudaEmulator) models each
        // instruction with its operands in the same order.
        __device__ __forceinline__ float to_float(f16 v)
        {
        #ifdef __CUDA_ARCH__
            float r;
            asm("cvt.f32.f16 %0, %1;" : "=f"(r) : "h"(v.bits));
            return r;
        #else
            return emulated_cvt_f32_f16(v.bits);
        #endif
        }

        template <typename T> __device__ __forceinline__ T from_float(float v);
        template <> __device__ __forceinline__ float from_float<float>(float v) { return v; }
        // Round to nearest even, as the host's BFloat16Bits.FromFloat.
        template <> __device__ __forceinline__ bf16 from_float<bf16>(float v)
        {
            bf16 r;
        #ifdef __CUDA_ARCH__
            asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(r.bits) : "f"(v));
        #else
            r.bits = emulated_cvt_rn_bf16_f32(v);
        #endif
            return r;
        }

        __device__ __forceinline__ float negative_infinity() { return __int_as_float(0xff800000); }

        // A grid-stride loop over [0, n): kernels are launched with at most a bounded number of blocks.
        #define FOR_EACH_INDEX(i, n) for (i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (i64)gridDim.x * blockDim.x)

        __device__ __forceinline__ float warp_sum(float v)
        {
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            return v;
        }

        __device__ __forceinline__ double warp_sum(double v)
        {
            for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
            return v;
        }

        __device__ __forceinline__ float warp_max(float v)
        {
            for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
            return v;
        }

        // The sum of v over the block (blockDim.x a multiple of 32), returned to every thread. scratch holds 32 floats;
        // the first barrier keeps a previous call's readers ahead of this call's writers.
        __device__ float block_sum(float v, float* scratch)
        {
            int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            v = warp_sum(v);
            __syncthreads();
            if (lane == 0) scratch[warp] = v;
            __syncthreads();
            v = lane < (int)(blockDim.x >> 5) ? scratch[lane] : 0.f;
            return warp_sum(v);
        }

        // The largest v over the block (blockDim.x a multiple of 32), returned to every thread; as block_sum.
        __device__ float block_max(float v, float* scratch)
        {
            int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            v = warp_max(v);
            __syncthreads();
            if (lane == 0) scratch[warp] = v;
            __syncthreads();
            v = lane < (int)(blockDim.x >> 5) ? scratch[lane] : negative_infinity();
            return warp_max(v);
        }

        // Adds the block's sums of a and b into sums[0] and sums[1] (one pair of double atomics per block; blockDim.x a
        // multiple of 32). The caller zeroes sums before the grid runs.
        __device__ void block_add_pair(double a, double b, double* sums)
        {
            __shared__ double scratch[2][32];
            int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
            a = warp_sum(a);
            b = warp_sum(b);
            if (lane == 0)
            {
                scratch[0][warp] = a;
                scratch[1][warp] = b;
            }
            __syncthreads();
            if (threadIdx.x == 0)
            {
                for (int w = 1; w < (int)(blockDim.x >> 5); w++)
                {
                    a += scratch[0][w];
                    b += scratch[1][w];
                }
                atomicAdd(sums, a);
                atomicAdd(sums + 1, b);
            }
        }
        """;
}
