#!/usr/bin/env bash
# Fails when the servers' instructions per request grew by more than 5% (plus
# 2k instructions) over bench/instructions_baseline.txt, after scaling the
# baseline by the bare echo server's change measured in the same run (so a
# CPU whose glibc routines cost more or less does not fail or hide it). Counted with
# valgrind --tool=callgrind by
# `accord_bench --instructions_only` (institution Get, agreement Create and
# the institution's share of a Create, one call in flight; the bare echo
# server is reported for comparison, not checked).
#
# Usage:
#   bench/instructions_check.sh [--build-dir DIR]   # check (ctest runs this)
#   bench/instructions_check.sh --update            # after a deliberate change
# The build directory defaults to $ACCORD_BUILD_DIR (as for scripts/build.sh;
# relative to the repository), else build/.
#
# The baseline is for the RelWithDebInfo build that scripts/build.sh makes
# (build/), with the toolchain and the CPU's features recorded in the
# baseline file; other builds (Debug, sanitizers, another compiler or gRPC)
# are skipped (exit 77), as is a machine without valgrind. On a CPU with
# other features the figures are printed and not judged (exit 77).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
baseline="$here/instructions_baseline.txt"
build_dir="${ACCORD_BUILD_DIR:-build}"
case "$build_dir" in /*) ;; *) build_dir="$here/../$build_dir" ;; esac
update=0
tolerance=1.05
# Plus this many instructions, so a figure near zero (the institution's share
# of a create once the agreement service caches the parties: its idle timers)
# does not fail on noise.
slack=2000
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --build-dir=*) build_dir="${1#--build-dir=}" ;;
    *) echo "usage: $0 [--build-dir DIR] [--update]" >&2; exit 2 ;;
  esac
  shift
done

skip() { echo "SKIPPED: $*"; exit 77; }
# The CPU features glibc chooses its routines by (and valgrind passes on),
# as one short fingerprint: counts are comparable only between machines
# that share it.
cpu_features() {
  sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1 |
    tr ' ' '\n' | sort | sha256sum | cut -c1-16
}

cache="$build_dir/CMakeCache.txt"
[ -f "$cache" ] || { echo "no $cache: build first (scripts/build.sh)" >&2; exit 2; }
cache_value() { sed -n "s/^$1:[A-Z]*=//p" "$cache" | head -1; }
build_type="$(cache_value CMAKE_BUILD_TYPE)"
sanitize="$(cache_value ACCORD_SANITIZE)"
compiler="$(cache_value CMAKE_CXX_COMPILER)"
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
  skip "valgrind is not installed"
[ "$build_type" = RelWithDebInfo ] ||
  skip "the baseline is for the RelWithDebInfo build (scripts/build.sh); this is '$build_type'"
case "$sanitize" in ON|on|TRUE|true|1) skip "sanitizer build" ;; esac
toolchain="$("$compiler" --version | head -1); grpc++ $(pkg-config --modversion grpc++ 2>/dev/null || echo '?'); protobuf $(pkg-config --modversion protobuf 2>/dev/null || echo '?')"

bench="$build_dir/bin/accord_bench"
[ -x "$bench" ] || { echo "no $bench: build first" >&2; exit 2; }
# Short: 200 and 400 Gets, 50 and 100 Creates, two pairs (~45 s alone).
output="$("$bench" --instructions_only --instruction_requests=200 \
  --instruction_creates=50 --instruction_repeats=2 2>&1)" || {
  echo "$output"; echo "FAILED: accord_bench did not finish"; exit 1; }
measured() { echo "$output" | sed -n "s/^INSTR $1 //p" | head -1; }

names=(institution_get agreement_create institution_per_create)
if [ "$update" = 1 ]; then
  {
    echo "# Server instructions per request (callgrind), written by"
    echo "# bench/instructions_check.sh --update; checked by the ctest"
    echo "# instructions_regression (fails above +5% plus 2k)."
    echo "# build: $build_type"
    echo "# toolchain: $toolchain"
    echo "# measured: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "# cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
    echo "# cpu features: $(cpu_features)"
    echo "# echo_rpc is the bare gRPC echo server, for comparison only."
    echo "echo_rpc $(measured echo_rpc)"
    for name in "${names[@]}"; do echo "$name $(measured "$name")"; done
  } > "$baseline"
  cat "$baseline"
  exit 0
fi

[ -f "$baseline" ] || { echo "no $baseline: run $0 --update" >&2; exit 2; }
recorded_toolchain="$(sed -n 's/^# toolchain: //p' "$baseline")"
[ "$recorded_toolchain" = "$toolchain" ] ||
  skip "baseline toolchain '$recorded_toolchain' differs from '$toolchain'; run $0 --update"

# The bare echo server, measured in the same run, scales the baseline to
# this machine: the same binary counts different instructions on another
# CPU (glibc picks its memcpy, strlen, ... variants by CPU features), and
# the echo server moves with it. A figure regresses when it grew more than
# the tolerance beyond the echo server's own change.
echo_base="$(sed -n "s/^echo_rpc //p" "$baseline")"
echo_now="$(measured echo_rpc)"
[ -n "$echo_base" ] && [ -n "$echo_now" ] && [ "$echo_base" -gt 0 ] ||
  { echo "missing figure echo_rpc"; exit 1; }
scale="$(awk -v a="$echo_now" -v b="$echo_base" 'BEGIN { printf "%.6f", a / b }')"
echo "cpu: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1)"
echo "echo server: $echo_now against $echo_base in the baseline (scale $scale)"
status=0
printf '%-24s %12s %12s %8s %10s\n' figure baseline measured change vs-echo
for name in echo_rpc "${names[@]}"; do
  base="$(sed -n "s/^$name //p" "$baseline")"
  now="$(measured "$name")"
  [ -n "$base" ] && [ -n "$now" ] || { echo "missing figure $name"; exit 1; }
  change="$(awk -v a="$now" -v b="$base" 'BEGIN { if (b > 0) printf "%+.1f%%", (a / b - 1) * 100; else printf "n/a" }')"
  relative="$(awk -v a="$now" -v b="$base" -v k="$scale" 'BEGIN { if (b > 0) printf "%+.1f%%", (a / (b * k) - 1) * 100; else printf "n/a" }')"
  verdict=""
  if [ "$name" != echo_rpc ] &&
     awk -v a="$now" -v b="$base" -v k="$scale" -v t="$tolerance" -v s="$slack" 'BEGIN { exit !(a > b * k * t + s) }'; then
    verdict="  REGRESSION (> +5% beyond the echo server)"
    status=1
  fi
  printf '%-24s %12s %12s %8s %10s%s\n' "$name" "$base" "$now" "$change" "$relative" "$verdict"
done
# Another CPU: the echo scaling above absorbs most of the difference, but
# not all of it (a Get copies and compares more strings than an echo), so
# there the figures are shown and not judged.
recorded_features="$(sed -n 's/^# cpu features: //p' "$baseline")"
if [ "$recorded_features" != "$(cpu_features)" ]; then
  skip "the baseline was measured on a CPU with other features ($recorded_features, here $(cpu_features)); figures above for information; run $0 --update on this machine to judge here"
fi
if [ "$status" != 0 ]; then
  echo "FAILED: more instructions per request than bench/instructions_baseline.txt."
  echo "If the change is deliberate, run bench/instructions_check.sh --update"
  echo "and commit the new baseline."
fi
exit "$status"
