#!/usr/bin/env bash
# Builds Accord (scripts/build.sh) and runs both benchmarks, every issue 8
# target: accord_bench (Gets, writes, List, instructions; about 4 minutes)
# then notification_bench (watchers; under a minute). The reports are also
# kept in build/accord_bench.txt and build/notification_bench.txt.
# Arguments go to accord_bench (`build/bin/accord_bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build_dir="${ACCORD_BUILD_DIR:-build}"
"$build_dir/bin/accord_bench" "$@" | tee "$build_dir/accord_bench.txt"
"$build_dir/bin/notification_bench" 200 |
  tee "$build_dir/notification_bench.txt"
