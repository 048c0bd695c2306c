// What the emulated NVRTC and driver agree on: the "cubin" NVRTC hands out is this header followed by a shared library
// holding the kernels compiled for the host (kernel_runtime.h), which cuModuleLoadData loads.
#pragma once
#include <stdint.h>

#define EMULATED_MODULE_MAGIC "FLUX2EMU"
#define EMULATED_DEVICE_NAME "Flux2 CUDA host emulation (CPU)"

struct EmulatedModuleHeader
{
    char magic[8];
    uint64_t length;  // bytes of the shared library that follows
};
