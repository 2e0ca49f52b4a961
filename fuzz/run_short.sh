#!/usr/bin/env bash
# A short run of every fuzz target over a temporary copy of its seed corpus
# (fuzz/corpus/<target>/ is never written). Builds BUILD_DIR first if
# needed (fuzz/build.sh). Prints one line per target with its speed, and
# last `N passed, M failed`; exit code 0 only if all passed. Inputs that
# crash are kept in BUILD_DIR/artifacts/<target>/.
#
# Usage: fuzz/run_short.sh [BUILD_DIR] (default build-fuzz)
# Environment: ACCORD_FUZZ_SECONDS per target (default 10).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$(realpath -m "${1:-$root/build-fuzz}")"
seconds="${ACCORD_FUZZ_SECONDS:-10}"
targets=(filter page_token resource_name event_decoding request_validation)

mkdir -p "$build"
if ! "$root/fuzz/build.sh" "$build" >"$build/fuzz-build.log" 2>&1; then
  tail -n 40 "$build/fuzz-build.log"
  echo "run_short: the fuzz build failed (log: $build/fuzz-build.log)"
  echo "0 passed, ${#targets[@]} failed"
  exit 1
fi

# Sanitizer settings of their own, whatever the caller's are.
export ASAN_OPTIONS="detect_leaks=1:allocator_may_return_null=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
work="$(mktemp -d "${TMPDIR:-/tmp}/accord-fuzz-XXXXXX")"
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for target in "${targets[@]}"; do
  cp -r "$root/fuzz/corpus/$target" "$work/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$artifacts"
  dict=()
  [ -f "$root/fuzz/$target.dict" ] && dict=(-dict="$root/fuzz/$target.dict")
  log="$work/$target.log"
  if "$build/bin/${target}_fuzzer" "${dict[@]}" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$work/$target" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    corpus=$(find "$work/$target" -type f | wc -l)
    echo "PASS ${target}_fuzzer: ${runs:-?} runs, ${speed:-?} exec/s, corpus $(find "$root/fuzz/corpus/$target" -type f | wc -l) -> $corpus"
    passed=$((passed + 1))
  else
    echo "FAIL ${target}_fuzzer (inputs kept in $artifacts):"
    grep -v '^#\|^INFO\|^stat::' "$log" | tail -n 60
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
