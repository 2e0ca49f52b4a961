#!/usr/bin/env bash
# Generates the Python code for Accord's protos and the google/api and
# google/rpc protos into OUT_DIR (default clients/python/gen), from
# clients/buf.gen.yaml (clients/generate.sh). `ACCORD_PYTHON_GEN=OUT_DIR`
# tells example.py to use it instead of an installed accord-client wheel.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/clients/python/gen}"
gen="$(mktemp -d)"
trap 'rm -rf "$gen"' EXIT
"$root/clients/generate.sh" "$gen"
mkdir -p "$out"
cp -r "$gen/python/." "$out/"
echo "generated Python code in $out"
