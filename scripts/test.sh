#!/usr/bin/env bash
# The test command: installs what is missing, builds once, runs every test
# (unit, integration against real redis-server and service processes on
# free loopback ports, buf lint). Exit code 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build_dir="${ACCORD_BUILD_DIR:-build}"
cd "$build_dir"
ctest --output-on-failure -j"$(nproc)" --timeout 600 "$@"
