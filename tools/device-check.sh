#!/usr/bin/env bash
# The CUDA backend's check on a GPU machine, which needs no .NET: prints the machine's facts, runs the CUDA tests (every
# kernel compiled by the machine's NVRTC, every GPU op against the CPU backend, the backend contract, the golden models
# and pipelines on the GPU), the GPU benchmark (klein-4B step, and whole klein-4B images with their stages, at real
# shapes with random weights; one step and one image of each size also profiled: GPU time per kernel and per product
# shape; attention and the GEMM it is measured against at the step's lengths) and the PyTorch yardsticks of the same visit, and ends with a short table. First, on a
# machine with the .NET SDK: tools/build-device-check.sh. Then, from the repository root with artifacts/device-check
# carried: tools/device-check.sh. The full log goes to $OUT when set (else the temp folder).
# A second call after a fix can run one part: `tools/device-check.sh tests [xunit options, e.g. -class NAME]` or
# `tools/device-check.sh bench` (benchmark and yardsticks).
set -uo pipefail
part=${1:-all}
[ $# -gt 0 ] && shift
case "$part" in
  all | tests | bench) ;;
  *) echo "device-check: unknown part '$part' (all, tests [xunit options], bench)"; exit 2 ;;
esac
cd "$(dirname "$0")/.."
pack=artifacts/device-check/flux2-cuda-tests.tar.xz
[ -f "$pack" ] || { echo "device-check: $pack is missing; run tools/build-device-check.sh first"; exit 2; }
work=$(mktemp -d)
tar -C "$work" -xJf "$pack" || { echo "device-check: cannot unpack $pack (xz needed)"; exit 2; }
log=${OUT:-$work}/device-check.log

echo "== machine"
if command -v nvidia-smi >/dev/null; then
  nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,memory.used --format=csv,noheader
else
  echo "nvidia-smi not found"
fi
ldd --version 2>&1 | head -1
uname -srm
# The benchmark is built for x86-64-v3 (AVX2).
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) processors; $(grep -m1 -ow 'avx2' /proc/cpuinfo || echo 'no avx2') $(grep -m1 -ow 'avx512f' /proc/cpuinfo)"
# NVIDIA's pip wheels of the Python on PATH (torch's venv): the backend's search looks under $VIRTUAL_ENV.
if [ -z "${VIRTUAL_ENV:-}" ] && command -v python3 >/dev/null; then
  prefix=$(python3 -c 'import sys; print(sys.prefix)')
  if compgen -G "$prefix/lib/python3*/site-packages/nvidia" >/dev/null; then export VIRTUAL_ENV=$prefix; fi
fi
echo "VIRTUAL_ENV=${VIRTUAL_ENV:-} FLUX2_CUDA_LIBRARY_PATH=${FLUX2_CUDA_LIBRARY_PATH:-}"
# Compile every kernel here, with this machine's NVRTC, rather than reuse a cache.
export FLUX2_CUDA_CACHE=$work/cubin

status=0
if [ "$part" != bench ]; then
echo "== tests (log: $log)"
# On a GPU machine nothing may skip: a skip means a library or the device was not found (the reason is in the log).
timeout 210 "$work/tests/Flux2.Cuda.Tests" -showLiveOutput -noColor -failSkips "$@" >"$log" 2>&1
status=$?
grep -o 'FACT .*' "$log" | sed 's/^FACT /  /'
if grep -qE '\[(FAIL|SKIP)\]' "$log"; then
  echo "== failures"
  grep -A8 -E '\[(FAIL|SKIP)\]' "$log" | head -120
fi
fi

bench_log=${OUT:-$work}/device-bench.log
if [ "$part" != tests ]; then
# Every part has its own time limit: the whole visit stays under ~9.9 minutes (tests 210 s + benchmarks 90 + 20 + 30 + 140 s
# + yardsticks 75 s + the FP8 step 30 s = 595 s), a device call's limit being 10. The FP8 step (weights quantized on the
# host first) comes last: it is the one to lose if time runs short. The bf16 step ends with the same steps under a
# factor-16 LoKr on every block Linear (the Kronecker side path), then under a rank-32 DoRA (the gains and the norms taken
# at load), after the plain step's lines are out.
echo "== benchmark (random weights of the real shapes; times until the GPU has finished)"
bench=$work/bench/Flux2.Bench
{
  timeout 90 "$bench" step --device cuda --precision bf16 --sizes 512,1024 --steps 10 --profile --adapter lokr:16,dora:32
  timeout 20 "$bench" attention --device cuda --precision bf16 --lengths 1536,5120 --reps 10
  timeout 30 "$bench" step --device cuda --precision fp32 --sizes 512 --steps 3
  timeout 140 "$bench" pipeline --device cuda --precision bf16 --sizes 512,1024 --runs 3 --images 4 --batch 4 --folder "$work/model" --profile
  timeout 75 python3 tools/device-yardsticks.py
  timeout 30 "$bench" step --device cuda --precision bf16 --weights fp8 --sizes 1024 --steps 10 --profile
} 2>&1 | tee "$bench_log"
fi

if [ -f "$log" ]; then
  echo "== GPU against CPU and goldens: op, precision, elements, error, verdict"
  grep -o 'TABLE .*' "$log" | sed 's/^TABLE /  /' | sort
fi
if [ -f "$bench_log" ]; then
  echo "== speed"
  grep -E 'ms/step|plain step|on every block Linear|PROFILE|attention L=|causal GQA|end to end|images/s|peak|YARDSTICK' "$bench_log" | sed 's/^/  /'
fi
[ -f "$log" ] && grep -A1 'TEST EXECUTION SUMMARY' "$log" | tail -1
exit $status
