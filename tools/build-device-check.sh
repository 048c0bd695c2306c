#!/usr/bin/env bash
# Builds what tools/device-check.sh runs on a GPU machine that has no .NET: the CUDA tests as a self-contained, trimmed,
# self-running executable and the benchmark as a NativeAOT executable, packed with xz into artifacts/device-check/
# (ignored by git: carry that folder to the device).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/device-check
rm -rf "$out"
mkdir -p "$out"
# Partial trimming keeps the test framework's reflection working; its libraries' trim warnings are not ours to fix.
dotnet publish tests/Flux2.Cuda.Tests -c Release -r linux-x64 --self-contained \
  -p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true -o "$out/tests"
# Left out: the test SDK's code-coverage engines for other systems, translated messages and the debugger's libraries
# (every subfolder of the output is one of the first two).
find "$out/tests" -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
rm -f "$out/tests/libmscordaccore.so" "$out/tests/libmscordbi.so" "$out/tests/createdump"
# The benchmark compiled ahead of time for x86-64-v3 (AVX2, which every GPU server's processor has): its host-side work
# (random models written as files, weights quantized or expanded on the host) runs on the AVX2 kernels, 22 times faster
# than on the baseline instruction set (a 256² VAE decode on the CPU: 105 s against 4.6 s). Its CPU numbers are still
# not the CPU backend's, which takes the JIT's AVX-512 and bf16 paths; it is there for the GPU.
dotnet publish bench/Flux2.Bench -c Release -r linux-x64 -p:PublishAot=true -p:IlcInstructionSet=x86-64-v3 -p:DebugType=none \
  -p:StripSymbols=true -o "$out/bench"
tar -C "$out" -cJf "$out/flux2-cuda-tests.tar.xz" tests bench/Flux2.Bench
rm -rf "$out/tests" "$out/bench"
echo "$out/flux2-cuda-tests.tar.xz: $(du -h "$out/flux2-cuda-tests.tar.xz" | cut -f1) (the tracked repository adds $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1))"
