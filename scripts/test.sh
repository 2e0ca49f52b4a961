#!/usr/bin/env bash
# The test command: installs what is missing, builds once, runs every test
# (unit, integration against real redis-server and service processes on
# free loopback ports, buf lint). Exit code 0 only if all pass.
#
# `scripts/test.sh --sanitize [ctest args]` builds into build-asan with
# AddressSanitizer and UndefinedBehaviorSanitizer (-DACCORD_SANITIZE=ON) and
# runs the unit and integration tests there. Every instrumented process,
# including the services the integration tests start, writes its reports to
# build-asan/sanitizer-logs/; any report fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=0
if [ "${1:-}" = "--sanitize" ]; then
  sanitize=1
  shift
fi
scripts/install-deps.sh
if ((sanitize)); then
  export ACCORD_BUILD_DIR="${ACCORD_BUILD_DIR:-build-asan}"
  export ACCORD_CMAKE_FLAGS="${ACCORD_CMAKE_FLAGS:-} -DACCORD_SANITIZE=ON"
fi
scripts/build.sh
build_dir="${ACCORD_BUILD_DIR:-build}"
cd "$build_dir"
if ((!sanitize)); then
  ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@"
  exit
fi
logs="$PWD/sanitizer-logs"
rm -rf "$logs" && mkdir -p "$logs"
export ASAN_OPTIONS="log_path=$logs/asan:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="log_path=$logs/ubsan:print_stacktrace=1:halt_on_error=1"
status=0
# fuzz_short has its own clang build; the client and manifest tests exercise
# other languages and tools, not Accord's C++.
ctest --output-on-failure -j"$(nproc)" --timeout 900 \
  -E '^(fuzz_short|generated_clients|deploy_manifests)$' "$@" || status=$?
if compgen -G "$logs/*" >/dev/null; then
  echo "test.sh: sanitizer reports in $logs:" >&2
  cat "$logs"/* >&2
  status=1
fi
exit "$status"
