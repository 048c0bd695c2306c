#!/usr/bin/env bash
# Builds the host emulation of the CUDA driver, NVRTC and cuBLASLt into a folder (default artifacts/cuda-emulator) that
# FLUX2_CUDA_LIBRARY_PATH can name. Needs g++ (C++17) on x86-64 Linux.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../artifacts/cuda-emulator}"
mkdir -p "$out"
flags=(-std=c++17 -O2 -fPIC -shared -Wall -Wno-unused-parameter -Wno-unused-function)
g++ "${flags[@]}" -o "$out/libcuda.so.1" "$here/driver.cpp" -ldl
g++ "${flags[@]}" -o "$out/libnvrtc.so.12" "$here/nvrtc.cpp" -ldl
g++ "${flags[@]}" -o "$out/libcublasLt.so.12" "$here/cublaslt.cpp"
cp "$here/kernel_runtime.h" "$here/emulator.h" "$out/"
echo "$out"
