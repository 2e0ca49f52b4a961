#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every test
# (unit, integration against real redis-server and service processes on
# free loopback ports, fault injection, buf lint, short fuzz runs), then the
# same unit, integration and fault tests again in a build with
# AddressSanitizer and UndefinedBehaviorSanitizer. Exit code 0 only if both
# pass. Extra arguments go to ctest (both passes), e.g. `-R Agreement`.
#
#   scripts/test.sh                  both passes (what CI runs)
#   scripts/test.sh --no-sanitize    the plain pass only (build/)
#   scripts/test.sh --sanitize       the sanitizer pass only (build-asan/,
#                                    -DACCORD_SANITIZE=ON)
#
# In the sanitizer pass every instrumented process, including the services
# the integration tests start, writes its reports to
# build-asan/sanitizer-logs/; any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=both
case "${1:-}" in
  --sanitize) mode=sanitize; shift ;;
  --no-sanitize) mode=plain; shift ;;
esac
scripts/install-deps.sh

run_plain() {
  ACCORD_BUILD_DIR=build scripts/build.sh || return
  (cd build && ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@")
}

run_sanitized() {
  ACCORD_BUILD_DIR=build-asan \
    ACCORD_CMAKE_FLAGS="${ACCORD_CMAKE_FLAGS:-} -DACCORD_SANITIZE=ON" \
    scripts/build.sh || return
  local logs="$PWD/build-asan/sanitizer-logs"
  rm -rf "$logs" && mkdir -p "$logs"
  local status=0
  # fuzz_short has its own clang build (with the same sanitizers); the
  # client and manifest tests exercise other languages and tools, not
  # Accord's C++.
  (cd build-asan &&
    ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1" \
      UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1" \
      ctest --output-on-failure -j"$(nproc)" --timeout 900 \
      -E '^(fuzz_short|generated_clients|deploy_manifests)$' "$@") ||
    status=$?
  if compgen -G "$logs/*" >/dev/null; then
    echo "test.sh: sanitizer reports in $logs:" >&2
    cat "$logs"/* >&2
    status=1
  fi
  return "$status"
}

# Names of the failed tests of a pass and the last lines of each one's output,
# read back from CTest's own logs, so that they are the last thing the run
# prints, after the other pass, where a log that keeps only the tail sees
# them.
summarize_failures() {
  local label="$1" dir="$2/Testing/Temporary"
  # Only a list this run wrote (a build that failed runs no test).
  [ -s "$dir/LastTestsFailed.log" ] && [ "$dir/LastTestsFailed.log" -nt "$run_started" ] ||
    return 0
  echo "test.sh: $label pass failed: $(cut -d: -f2- "$dir/LastTestsFailed.log" | paste -sd' ')"
  local name
  while IFS=: read -r _ name; do
    local output
    output="$(awk -v name="$name" '
      $0 ~ "^[0-9]+/[0-9]+ Test: " && $3 == name { mine = 1; next }
      mine && /^Output:/ { getline; reading = 1; next }
      mine && /^<end of output>/ { exit }
      reading { print }' "$dir/LastTest.log")"
    echo "--- $name: its first lines that name a failure, then its last lines"
    grep -i -E -m 10 'failure|failed|error|regression|timeout' <<<"$output" | cut -c1-300
    echo "..."
    tail -n 8 <<<"$output" | cut -c1-300
  done <"$dir/LastTestsFailed.log"
}

run_started="$(mktemp)"
trap 'rm -f "$run_started"' EXIT
plain_status=0
sanitized_status=0
started=$SECONDS
if [ "$mode" != sanitize ]; then
  run_plain "$@" || plain_status=$?
  echo "test.sh: plain pass exit $plain_status after $((SECONDS - started)) s"
fi
if [ "$mode" != plain ]; then
  run_sanitized "$@" || sanitized_status=$?
  echo "test.sh: sanitizer pass exit $sanitized_status after $((SECONDS - started)) s"
fi
if [ "$mode" != sanitize ] && ((plain_status)); then
  summarize_failures plain build
fi
if [ "$mode" != plain ] && ((sanitized_status)); then
  summarize_failures sanitizer build-asan
fi
((plain_status == 0 && sanitized_status == 0))
