#!/usr/bin/env bash
# A long fuzz session of one target. Builds build-fuzz if needed, then
# fuzzes with a working corpus that persists between sessions
# (build-fuzz/corpus/<target>, seeded from fuzz/corpus/<target>); crashing
# inputs land in build-fuzz/artifacts/<target>/. Extra arguments go to
# libFuzzer, e.g. -jobs=2 -workers=2, -only_ascii=1, -max_len=4096.
#
# Usage: fuzz/run_long.sh TARGET [SECONDS] [libFuzzer args...]
#   TARGET: filter, page_token, resource_name, event_decoding,
#           request_validation
#   SECONDS: default 600; 0 runs until stopped or a crash
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ $# -lt 1 ]; then
  sed -n '2,/^set/p' "$0" | grep '^#' | sed 's/^# \{0,1\}//'
  exit 2
fi
target="$1"
seconds="${2:-600}"
shift $(($# >= 2 ? 2 : 1))
build="${ACCORD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
"$root/fuzz/build.sh" "$build"
fuzzer="$build/bin/${target}_fuzzer"
[ -x "$fuzzer" ] || { echo "run_long: no fuzz target $target" >&2; exit 2; }
corpus="$build/corpus/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
cp -rn "$root/fuzz/corpus/$target/." "$corpus/"
dict=()
[ -f "$root/fuzz/$target.dict" ] && dict=(-dict="$root/fuzz/$target.dict")
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
echo "run_long: $fuzzer for ${seconds}s; corpus $corpus, artifacts $artifacts"
cd "$build"  # -jobs writes its fuzz-<n>.log files here
exec "$fuzzer" "${dict[@]}" -max_total_time="$seconds" -timeout=10 \
  -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
  "$@" "$corpus"
