#!/usr/bin/env bash
# Builds what tools/device-check.sh runs on a GPU machine that has no .NET: the CUDA tests as a self-contained, trimmed,
# self-running executable, packed with xz into artifacts/device-check/ (ignored by git: carry that folder to the device).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/device-check
rm -rf "$out"
mkdir -p "$out"
# Partial trimming keeps the test framework's reflection working; its libraries' trim warnings are not ours to fix.
dotnet publish tests/Flux2.Cuda.Tests -c Release -r linux-x64 --self-contained \
  -p:PublishTrimmed=true -p:TrimMode=partial -p:SuppressTrimAnalysisWarnings=true -o "$out/tests"
tar -C "$out" -cJf "$out/flux2-cuda-tests.tar.xz" tests
rm -rf "$out/tests"
echo "$out/flux2-cuda-tests.tar.xz: $(du -h "$out/flux2-cuda-tests.tar.xz" | cut -f1) (the tracked repository adds $(git ls-files -z | du -ch --files0-from=- | tail -1 | cut -f1))"
