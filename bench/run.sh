#!/usr/bin/env bash
# Builds Accord (scripts/build.sh) and runs the suite benchmark (about 4-5
# minutes after the build); the report is also kept in
# build/accord_bench.txt.
# Arguments go to accord_bench (`build/bin/accord_bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build_dir="${ACCORD_BUILD_DIR:-build}"
"$build_dir/bin/accord_bench" "$@" | tee "$build_dir/accord_bench.txt"
