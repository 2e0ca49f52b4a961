#!/usr/bin/env bash
# Configures and builds Accord into build/ (or $ACCORD_BUILD_DIR): every
# target, or only the targets named as arguments.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${ACCORD_BUILD_DIR:-build}"
# ccache hits across clones in different folders (CI clones afresh).
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
export CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-true}"
generator=()
if [ ! -f "$build_dir/CMakeCache.txt" ] && command -v ninja >/dev/null; then
  generator=(-G Ninja)
fi
cmake -S . -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE="${ACCORD_BUILD_TYPE:-RelWithDebInfo}" \
  ${ACCORD_CMAKE_FLAGS:-} >/dev/null
targets=()
for target in "$@"; do targets+=(--target "$target"); done
cmake --build "$build_dir" -j"$(nproc)" "${targets[@]}"
