#!/usr/bin/env bash
# Configures (once) and builds the fuzz targets into BUILD_DIR (default
# build-fuzz): clang-14, libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, and only what the targets need (see
# fuzz/CMakeLists.txt). ccache is used when present; an existing build is
# reused, so later calls only rebuild what changed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$root/build-fuzz}"
compiler="${ACCORD_FUZZ_CXX:-clang++-14}"
if ! command -v "$compiler" >/dev/null; then
  echo "fuzz/build.sh: $compiler not found (scripts/install-deps.sh installs clang-14 and libclang-rt-14-dev)" >&2
  exit 1
fi
mkdir -p "$build"
# One build at a time in a folder, whoever starts it.
exec 9>"$build/.build-lock"
flock 9
if [ ! -f "$build/CMakeCache.txt" ]; then
  generator=()
  if command -v ninja >/dev/null; then generator=(-G Ninja); fi
  cmake -S "$root" -B "$build" "${generator[@]}" \
    -DCMAKE_CXX_COMPILER="$compiler" -DACCORD_FUZZ=ON \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$(nproc)"
