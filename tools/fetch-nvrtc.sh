#!/usr/bin/env bash
# Unpacks NVIDIA's NVRTC (the runtime CUDA compiler, which needs no GPU) from Debian trixie's non-free section into a
# folder and prints the folder that holds libnvrtc.so.12, for FLUX2_CUDA_LIBRARY_PATH: with it the tests compile every
# kernel family to sm_80 and sm_90 cubins. Uses apt-get with private lists (the machine's apt state is not touched);
# needs apt-get, dpkg and the network. Usage: tools/fetch-nvrtc.sh [FOLDER] (default artifacts/nvrtc; reused if there).
set -euo pipefail
cd "$(dirname "$0")/.."
folder=$(realpath -m "${1:-artifacts/nvrtc}")
library=$folder/usr/lib/x86_64-linux-gnu
if [ -f "$library/libnvrtc.so.12" ]; then echo "$library"; exit 0; fi
command -v apt-get >/dev/null && command -v dpkg >/dev/null || { echo "fetch-nvrtc: apt-get and dpkg are needed" >&2; exit 1; }
apt=$folder/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie non-free" >"$apt/sources.list"
options=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$apt/lists"
  -o Dir::Cache="$apt/cache" -o APT::Sandbox::User="$(id -un)" -qq)
apt-get "${options[@]}" update >&2
# libnvrtc12 and the builtins library it loads (its package name carries the CUDA version).
builtins=$(apt-cache "${options[@]}" depends libnvrtc12 | sed -n 's/^ *Depends: \(libnvrtc-builtins[^ ]*\).*/\1/p' | head -1)
[ -n "$builtins" ] || { echo "fetch-nvrtc: libnvrtc12 names no libnvrtc-builtins package" >&2; exit 1; }
(cd "$apt/debs" && apt-get "${options[@]}" download libnvrtc12 "$builtins" >&2)
for deb in "$apt"/debs/*.deb; do dpkg -x "$deb" "$folder"; done
rm -rf "$apt"
[ -f "$library/libnvrtc.so.12" ] || { echo "fetch-nvrtc: the packages hold no $library/libnvrtc.so.12" >&2; exit 1; }
echo "$library"
