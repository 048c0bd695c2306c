// What the parts of the emulation share: the number conversions, and the "cubin" the emulated NVRTC hands out: this
// header followed by a shared library holding the kernels compiled for the host (kernel_runtime.h), which cuModuleLoadData loads.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#define EMULATED_MODULE_MAGIC "FLUX2EMU"
#define EMULATED_DEVICE_NAME "Flux2 CUDA host emulation (CPU)"

struct EmulatedModuleHeader
{
    char magic[8];
    uint64_t length;  // bytes of the shared library that follows
};

// The conversions of the PTX instructions the kernels use, shared by the kernels' host models and the emulated
// cuBLASLt.

// A bf16 value's 16 bits, widened exactly.
inline float emulated_bf16_to_f32(uint32_t bits)
{
    uint32_t word = bits << 16;
    float v;
    memcpy(&v, &word, 4);
    return v;
}

// cvt.f32.f16
inline float emulated_cvt_f32_f16(unsigned short h)
{
    unsigned sign = (h >> 15) & 1, exponent = (h >> 10) & 31, mantissa = h & 1023;
    float magnitude = exponent == 31 ? (mantissa ? NAN : INFINITY)
        : exponent == 0 ? ldexpf((float)mantissa, -24)
        : ldexpf((float)(mantissa | 1024), (int)exponent - 25);
    return sign ? -magnitude : magnitude;
}

// cvt.rn.bf16.f32: round to nearest even; a NaN stays a (quiet) NaN.
inline unsigned short emulated_cvt_rn_bf16_f32(float v)
{
    uint32_t bits;
    memcpy(&bits, &v, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) return (unsigned short)((bits >> 16) | 0x40);
    return (unsigned short)((bits + 0x7fffu + ((bits >> 16) & 1)) >> 16);
}

